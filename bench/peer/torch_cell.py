"""The PyTorch peer of `npm run train`: trains ONE cell of our training protocol (one recipe, one data
protocol, one seed) with an independent implementation, so that `npm run reproduce --peer torch` can
compare its results with ours within the seed-to-seed spread. See bench/peer/README.md.

    python3 bench/peer/torch_cell.py CONFIG.json OUT_DIR     # CONFIG.json = {"config": <TrainConfig>}
    python3 bench/peer/torch_cell.py --self-test             # losses against direct float64 formulas

Writes OUT_DIR/metrics.json, then OUT_DIR/summary.json (each atomically: a temporary file, then a
rename). Exit status: 0 done; 1 failure (PyTorch missing, a non-finite loss, a bug); 2 bad input (one
line on stderr: an unreadable config, a missing dataset file, an unsupported dataset or model);
3 a recipe this peer does not implement (one line: `torch peer: recipe X is not implemented`).
"""
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _import_torch():
    """PyTorch, from this interpreter or else from Debian's /usr/bin/python3 (where python3-torch installs
    it; a python3 earlier on PATH, e.g. pyenv's, may not see it): the script re-executes itself there."""
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    system = "/usr/bin/python3"
    if os.environ.get("TORCH_PEER_REEXEC") != "1" and os.path.realpath(sys.executable) != os.path.realpath(system) and os.path.exists(system):
        os.environ["TORCH_PEER_REEXEC"] = "1"
        os.execv(system, [system, os.path.abspath(__file__), *sys.argv[1:]])
    print("torch peer: PyTorch is not installed for %s (SETUP_BENCH=1 npm run setup installs Debian's python3-torch)" % sys.executable, file=sys.stderr)
    sys.exit(1)


_import_torch()
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import augment  # noqa: E402
import data  # noqa: E402
import losses  # noqa: E402
import metrics  # noqa: E402
from data import BadInput  # noqa: E402
from torch_models import ProjectionHead, ResNet32, SmallCNN, class_weight_rows, init_like_ours  # noqa: E402


class NotImplementedRecipe(Exception):
    pass


# The settings common to every recipe and each recipe's options, with our defaults (src/train/config.ts,
# src/train/recipes/*.ts), for a config that leaves one out.
COMMON = {
    "dataset": "fashion-mnist", "imbalance": 100, "profile": "exp", "binary": None, "minorityShare": 0.05, "nMax": 0,
    "binaryTotal": 0, "limitPerClass": 0, "testPerClass": 0, "model": "small-cnn", "widths": [8, 16, 32],
    "classifier": "linear", "epochs": 6, "batchSize": 128, "sampler": "shuffled", "lr": 0.05, "momentum": 0.9,
    "nesterov": False, "weightDecay": 5e-4, "noDecayBnBias": False, "schedule": "cosine", "warmupEpochs": 1,
    "warmupMode": "per-step", "milestones": [], "gamma": 0.1, "seed": 0,
}
CE_RECIPES = {"ce", "ce-la", "balanced-softmax"}
BCL_RECIPES = {"bcl", "supcon-lc"}
PRETRAIN_RECIPES = {"supcon", "simclr", "supmin", "supproto"}
PROBE = {"probeFraction": 0.01, "probeSteps": 200, "probeLr": 1.0}
OPTIONS = {
    "ce": {"pad": 2, "noFlip": False}, "ce-la": {"tau": 1.0, "pad": 2, "noFlip": False}, "balanced-softmax": {"pad": 2, "noFlip": False},
    "bcl": {"tau": 1.0, "lambda": 2.0, "mu": 0.6, "temperature": 0.1, "featDim": 128, "head": "mlp-bn", "bclAblation": "full"},
    "supcon-lc": {"tau": 1.0, "lambda": 2.0, "mu": 0.6, "temperature": 0.1, "featDim": 128, "head": "mlp-bn"},
    **{r: {"temperature": 0.07, "featDim": 128, "head": "mlp", **PROBE} for r in ("supcon", "simclr", "supmin")},
    "supproto": {"temperature": 0.07, "featDim": 128, "head": "mlp", **PROBE, "eps": [1, 1], "protoPlacement": "antipodal"},
}
SIM, RAND = "sim", "randaugment"


def settings(raw):
    """The config with defaults filled in, checked for what the peer supports."""
    if not isinstance(raw, dict):
        raise BadInput("torch peer: the config must be a JSON object")
    cfg = {**COMMON, **{k: v for k, v in raw.items() if v is not None or k == "binary"}}
    recipe = cfg.get("recipe", "ce")
    if recipe not in OPTIONS:
        raise NotImplementedRecipe(recipe)
    cfg["recipe"] = recipe
    cfg["options"] = {**OPTIONS[recipe], **(raw.get("options") or {})}
    if recipe in ("supmin", "supproto") and not cfg["binary"]:
        raise BadInput("torch peer: recipe %s needs a two-class task (binary: [a, b])" % recipe)
    if recipe == "supproto" and cfg["options"]["protoPlacement"] not in ("antipodal", "fitted"):
        raise BadInput("torch peer: protoPlacement must be antipodal or fitted, got %r" % cfg["options"]["protoPlacement"])
    if recipe == "bcl" and cfg["options"]["bclAblation"] not in ("full", "complement", "averaging"):
        raise BadInput("torch peer: bclAblation must be full, complement or averaging, got %r" % cfg["options"]["bclAblation"])
    if cfg["sampler"] not in ("shuffled", "class-balanced", "every-class"):
        raise BadInput("torch peer: unknown sampler %r" % cfg["sampler"])
    if cfg["schedule"] not in ("cosine", "step") or cfg["warmupMode"] not in ("per-step", "per-epoch"):
        raise BadInput("torch peer: unknown schedule %r / warm-up mode %r" % (cfg["schedule"], cfg["warmupMode"]))
    return cfg


def build_model(cfg, classes, channels, size):
    """Our buildModel (src/train/loop.ts), initialised as ours."""
    model = cfg["model"]
    if model == "small-cnn":
        net = SmallCNN(classes, tuple(cfg["widths"]), channels, size, cfg["classifier"])
    elif model.startswith("resnet") and model[6:].isdigit() and int(model[6:]) >= 8 and (int(model[6:]) - 2) % 6 == 0:
        net = ResNet32(classes, (int(model[6:]) - 2) // 6, channels, cfg["classifier"])
    else:
        raise BadInput("torch peer: model %r is not supported (small-cnn or resnet<6n+2>)" % model)
    return init_like_ours(net)


def learning_rate(cfg, epoch, step, steps):
    """Our schedule (src/train/schedule.ts, config.ts): warm-up W = min(warmupEpochs, epochs - 1) epochs,
    per step (base (e S + s + 1) / (W S)) or per epoch (base (e + 1) / W); then cosine per epoch,
    base / 2 (1 + cos(pi (e - W) / (E - W))), or step, base gamma^(milestones <= e)."""
    base, epochs = cfg["lr"], cfg["epochs"]
    warmup = min(cfg["warmupEpochs"], epochs - 1)
    if epoch < warmup:
        if cfg["warmupMode"] == "per-step":
            return base * (epoch * steps + step + 1) / (warmup * steps)
        return base * (epoch + 1) / warmup
    if cfg["schedule"] == "step":
        return base * cfg["gamma"] ** sum(1 for m in cfg["milestones"] if m <= epoch)
    return base * 0.5 * (1 + math.cos(math.pi * (min(epoch, epochs) - warmup) / (epochs - warmup)))


def in_batches(n, size, fn):
    """torch.cat of fn(start, stop) over [0, n) in chunks of `size`, without gradients."""
    with torch.no_grad():
        return torch.cat([fn(s, min(n, s + size)) for s in range(0, n, size)])


class Cell:
    """One run: data, model, the recipe's heads and state, optimizer; train() then evaluate()."""

    def __init__(self, cfg):
        self.cfg, self.opts, self.recipe = cfg, cfg["options"], cfg["recipe"]
        self.seed = int(cfg["seed"])
        train_x, train_y, test_x, test_y, title, names, (mean, std) = data.load_dataset(cfg)
        sel = data.select(cfg, train_y, test_y, title, names)
        self.sel = sel
        n = len(sel.train_labels)
        if n // cfg["batchSize"] < 1:
            raise BadInput("--batch-size %d is larger than the %d training images" % (cfg["batchSize"], n))
        self.steps_per_epoch = n // cfg["batchSize"]
        self.labels = torch.as_tensor(sel.train_labels)
        self.train = augment.Augmenter(torch.as_tensor(train_x[sel.train_idx]).float() / 255, mean, std)
        self.test = augment.Augmenter(torch.as_tensor(test_x[sel.test_idx]).float() / 255, mean, std)
        torch.manual_seed(self.seed)
        channels, size = train_x.shape[1], train_x.shape[2]
        self.model = build_model(cfg, sel.classes, channels, size)
        self.head = self.proto_head = self.prototypes = None
        trained = list(self.model.named_parameters())
        if self.recipe in BCL_RECIPES | PRETRAIN_RECIPES:
            batch_norm = self.opts["head"] == "mlp-bn"
            self.head = ProjectionHead(self.model.feature_dim, self.opts["featDim"], batch_norm=batch_norm)
            if self.recipe == "bcl" and self.opts["bclAblation"] != "averaging":
                self.proto_head = ProjectionHead(self.model.feature_dim, self.opts["featDim"], batch_norm=batch_norm)
            if self.recipe in PRETRAIN_RECIPES:
                trained = [(k, p) for k, p in trained if not k.startswith("fc.")]  # the probe replaces the classifier
            for prefix, m in (("head.", self.head), ("head_fc.", self.proto_head)):
                if m is not None:
                    trained += [(prefix + k, p) for k, p in m.named_parameters()]
        if self.recipe == "supproto":
            # The released code's placement: p = normalize(randn(D)), prototypes [p, -p] (row c for class c).
            p = F.normalize(torch.randn(1, self.opts["featDim"], generator=torch.Generator().manual_seed(self.seed)), dim=1)
            self.prototypes = torch.cat([p, -p])
        self.adjustment = None
        if self.recipe in ("ce-la", "balanced-softmax") or self.recipe in BCL_RECIPES:
            if min(sel.train_counts) < 1:
                raise BadInput("the logit adjustment needs every class in the training set")
            self.adjustment = losses.logit_adjustment(sel.train_counts, 1.0 if self.recipe == "balanced-softmax" else self.opts["tau"])
        decay = [p for _, p in trained if not cfg["noDecayBnBias"] or p.dim() > 1]
        plain = [p for _, p in trained if cfg["noDecayBnBias"] and p.dim() <= 1]
        try:
            self.optimizer = torch.optim.SGD([{"params": decay}, {"params": plain, "weight_decay": 0.0}], lr=cfg["lr"],
                                             momentum=cfg["momentum"], nesterov=cfg["nesterov"], weight_decay=cfg["weightDecay"])
        except ValueError as e:
            raise BadInput("torch peer: SGD: %s" % e)

    def modules(self):
        return [m for m in (self.model, self.head, self.proto_head) if m is not None]

    # ------------------------------------------------------------------------------------ one step

    def loss(self, rows, y, step, epoch_rng):
        """The step's loss (src/train/recipes/*.ts), the model and heads in training mode."""
        o, b = self.opts, len(rows)
        views = lambda v: data.rng(self.seed, data.VIEWS, step, v)  # noqa: E731
        if self.recipe in CE_RECIPES:
            logits = self.model(self.train.crop_flip(rows, o["pad"], not o["noFlip"], epoch_rng))
            return F.cross_entropy(logits, y) if self.adjustment is None else losses.logit_adjusted_ce(logits, y, self.adjustment)
        if self.recipe in BCL_RECIPES:
            # [v1; v2; v3] as ONE batch: the batch norms see all 3B rows (BCL's code); the classifier
            # sees the RandAugment view v1, the contrastive loss the SimAugment views v2, v3.
            feat = self.model.features(self.train.views(rows, [RAND, SIM, SIM], views))
            logits = self.model.fc(feat[:b])
            z = self.head(feat)[b:]
            pair = torch.stack([z[:b], z[b:]], 1)
            t, k = o["temperature"], self.sel.classes
            if self.recipe == "supcon-lc":
                contrastive = losses.supcon(pair, y, t, base_temperature=t)  # mu weighs a plain mean, as BCL's
            elif self.proto_head is not None:
                # Prototypes = head_fc(raw classifier rows), its batch norm in training mode over the K rows.
                centers = self.proto_head(class_weight_rows(self.model.fc))
                contrastive = losses.bcl(pair, y, centers, k, t, class_averaging=o["bclAblation"] == "full")
            else:
                contrastive = losses.bcl(pair, y, None, k, t)
            return o["lambda"] * losses.logit_adjusted_ce(logits, y, self.adjustment) + o["mu"] * contrastive
        z = self.head(self.model.features(self.train.views(rows, [SIM, SIM], views)))
        pair = torch.stack([z[:b], z[b:]], 1)
        t = o["temperature"]
        if self.recipe == "supcon":
            return losses.supcon(pair, y, t)
        if self.recipe == "supmin":
            return losses.supmin(pair, y, t)
        if self.recipe == "supproto":
            return losses.supproto(pair, y, self.prototypes, t, eps=tuple(o["eps"]))
        return losses.nt_xent(pair, t)

    def fit_prototypes(self):
        """The paper's SupProto placement: p_maj = the unit vector of least mean cosine distance to the clean
        training embeddings of the majority (the initial encoder, evaluation mode), normalize(sum of them);
        p_min = -p_maj."""
        z = self.embed(self.train, torch.arange(len(self.labels)), projections=True)
        counts = self.sel.train_counts
        majority = 1 if counts[1] > counts[0] else 0
        p = F.normalize(z[self.labels == majority].sum(0, keepdim=True), dim=1)
        self.prototypes = torch.cat([p, -p]) if majority == 0 else torch.cat([-p, p])

    def train_epochs(self, log):
        cfg = self.cfg
        if self.recipe == "supproto" and self.opts["protoPlacement"] == "fitted":
            self.fit_prototypes()
        step, last_loss = 0, math.nan
        every = int(cfg.get("logEvery") or 20)
        for epoch in range(cfg["epochs"]):
            for m in self.modules():
                m.train()
            epoch_rng = data.rng(self.seed, data.AUGMENT, epoch)
            total, started = 0.0, time.perf_counter()
            window, since = 0.0, 0  # the progress window: steps since the last progress line
            for i, rows in enumerate(data.batches(cfg["sampler"], self.sel.train_labels, self.sel.classes, cfg["batchSize"], self.seed, epoch)):
                for group in self.optimizer.param_groups:
                    group["lr"] = learning_rate(cfg, epoch, i, self.steps_per_epoch)
                rows = torch.as_tensor(rows)
                loss = self.loss(rows, self.labels[rows], step, epoch_rng)
                if not torch.isfinite(loss):
                    raise FloatingPointError("the loss became %s at epoch %d, step %d" % (float(loss), epoch + 1, step + 1))
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                total += float(loss)
                window += float(loss)
                step += 1
                since += 1
                if since == every:
                    log("epoch %d/%d step %d/%d loss %.4f lr %.4g" % (epoch + 1, cfg["epochs"], step, cfg["epochs"] * self.steps_per_epoch, window / since, self.optimizer.param_groups[0]["lr"]))
                    window, since = 0.0, 0
            last_loss = total / self.steps_per_epoch
            log("epoch %d/%d loss %.4f lr %.4g (%.1f s)" % (epoch + 1, cfg["epochs"], last_loss, self.optimizer.param_groups[0]["lr"], time.perf_counter() - started))
        return step, last_loss

    # ---------------------------------------------------------------------------------- evaluation

    def embed(self, images, rows, projections=False, normalise=False, augmented=None):
        """Features (or the head's unit projections) of rows of `images`, clean or augmented by
        `augmented(rows_chunk, start)`, every module in evaluation mode (no running statistic moves)."""
        modes = [(m, m.training) for m in self.modules()]
        for m, _ in modes:
            m.eval()
        try:
            def chunk(s, e):
                x = images.clean(rows[s:e]) if augmented is None else augmented(rows[s:e], s)
                f = self.model.features(x)
                return self.head(f) if projections else (F.normalize(f, dim=1) if normalise else f)
            return in_batches(len(rows), self.cfg["batchSize"], chunk)
        finally:
            for m, mode in modes:
                m.train(mode)

    def evaluate(self):
        """(predictions, report): the model's own classifier on the clean test set, or for the
        pre-training recipes the linear probe (src/train/evaluate.ts): a linear layer, zero-initialised,
        trained by full-batch SGD (momentum 0.9, no weight decay) with CE for probeSteps steps at probeLr
        on the L2-normalised frozen features of the balanced probe subset; classAverage = balanced accuracy."""
        test_rows = torch.arange(len(self.sel.test_labels))
        if self.recipe not in PRETRAIN_RECIPES:
            with torch.no_grad():
                self.model.eval()
                z = in_batches(len(test_rows), self.cfg["batchSize"], lambda s, e: self.model(self.test.clean(test_rows[s:e])))
                self.model.train()
            return metrics.score_logits(z, self.sel.test_labels, self.sel.train_counts)
        o, k = self.opts, self.sel.classes
        probe = torch.as_tensor(data.probe_subset(self.sel.train_labels, k, self.seed, o["probeFraction"]))
        x = self.embed(self.train, probe, normalise=True)
        y = self.labels[probe]
        w = torch.zeros(k, x.shape[1], requires_grad=True)
        bias = torch.zeros(k, requires_grad=True)
        opt = torch.optim.SGD([w, bias], lr=o["probeLr"], momentum=0.9)
        for _ in range(o["probeSteps"]):
            opt.zero_grad()
            F.cross_entropy(x @ w.t() + bias, y).backward()
            opt.step()
        with torch.no_grad():
            z = self.embed(self.test, test_rows, normalise=True) @ w.t() + bias
        return metrics.score_logits(z, self.sel.test_labels, self.sel.train_counts)

    def two_classes(self):
        """The Two-Classes metrics as our diagnostics (src/train/diagnostics.ts): 2 SimAugment views of a
        balanced subset of at most 250 test images per class, through the model and head in evaluation
        mode: the unit projections (recipes with a head), else the L2-normalised features; view-major."""
        rows = torch.as_tensor(data.capped_subset(self.sel.test_labels, self.sel.classes, 250, self.seed))
        n = len(rows)
        if math.floor(2 * n * 0.05) < 1:
            return None
        bs = self.cfg["batchSize"]
        head = self.head is not None

        def two_views(chunk, start):
            return self.test.views(chunk, [SIM, SIM], lambda v: data.rng(self.seed, data.VIEWS, 2 ** 31 + start // bs, v))

        blocked = self.embed(self.test, rows, projections=head, normalise=not head, augmented=two_views)
        # Chunks come as [view 0 of the chunk; view 1 of the chunk]; reorder to view v of sample i at v N + i.
        order = torch.empty(2 * n, dtype=torch.long)
        for s in range(0, n, bs):
            c = min(bs, n - s)
            for v in range(2):
                order[v * n + s: v * n + s + c] = torch.arange(2 * s + v * c, 2 * s + v * c + c)
        out = metrics.two_classes_metrics(blocked[order], self.sel.test_labels[rows.numpy()])
        out["space"] = "projections" if head else "embeddings (L2-normalised)"
        out["views"] = "2 SimAugment views of %d test images" % n
        return out


# ------------------------------------------------------------------------------------------- output

def clean_json(v):
    """NaN and infinities as null (as JSON.stringify), numpy scalars as numbers."""
    if isinstance(v, dict):
        return {k: clean_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean_json(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return v


def write_atomic(path, value):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(json.dumps(clean_json(value)) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def run(config_path, out_dir):
    started = time.perf_counter()
    try:
        with open(config_path) as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        raise BadInput("torch peer: cannot read the config %s: %s" % (config_path, e))
    if not isinstance(raw, dict) or not isinstance(raw.get("config"), dict):
        raise BadInput('torch peer: %s must hold {"config": {...}}' % config_path)
    given = raw["config"]
    cfg = settings(given)
    # Checked before any training; a previous run's files go first, so that a failed run leaves no
    # summary.json behind that a reader could take for its result.
    try:
        os.makedirs(out_dir, exist_ok=True)
        for name in ("summary.json", "metrics.json"):
            if os.path.exists(os.path.join(out_dir, name)):
                os.remove(os.path.join(out_dir, name))
        write_atomic(os.path.join(out_dir, ".probe"), {})
        os.remove(os.path.join(out_dir, ".probe"))
    except OSError as e:
        raise BadInput("torch peer: cannot write into %s: %s" % (out_dir, e))
    torch.set_num_threads(2)
    torch.manual_seed(int(cfg["seed"]))
    np.random.seed(int(cfg["seed"]) % 2 ** 32)
    cell = Cell(cfg)
    log0 = time.perf_counter() - started
    log = lambda line: print("[torch peer] " + line, flush=True)  # noqa: E731
    log("%s %s: %d training images, per class %s; %d test images (ready in %.1f s)" % (cfg["recipe"], cfg["dataset"], len(cell.sel.train_labels), cell.sel.train_counts, len(cell.sel.test_labels), log0))
    steps, last_loss = cell.train_epochs(log)
    t0 = time.perf_counter()
    predicted, report = cell.evaluate()
    t1 = time.perf_counter()
    two = cell.two_classes()
    log("evaluation %.1f s, Two-Classes metrics %.1f s" % (t1 - t0, time.perf_counter() - t1))
    k = cell.sel.classes
    extra = {"classNames": cell.sel.class_names, "balancedAccuracy": metrics.balanced_accuracy(predicted, cell.sel.test_labels, k)}
    if "auc" in report:
        extra["rocAuc"] = report["auc"]
    extra["predictions"] = {"predicted": predicted.tolist(), "labels": cell.sel.test_labels.tolist()}
    if two is not None:
        extra["twoClasses"] = two
    write_atomic(os.path.join(out_dir, "metrics.json"), extra)
    summary = {
        "config": given, "peer": "torch %s" % torch.__version__, "threads": torch.get_num_threads(), "epochs": cfg["epochs"], "steps": steps,
        "trainCounts": cell.sel.train_counts, "classNames": cell.sel.class_names,
        "final": {**report, "loss": last_loss}, "wallSeconds": time.perf_counter() - started,
    }
    write_atomic(os.path.join(out_dir, "summary.json"), summary)
    log("top1 %.4f class-avg %.4f%s (%.1f s)" % (report["top1"], report["classAverage"], " auc %.3f" % report["auc"] if "auc" in report else "", summary["wallSeconds"]))


def self_test():
    torch.set_num_threads(2)
    failures = losses.self_test() + augment_self_test() + metrics_self_test()
    for f in failures:
        print("FAIL " + f)
    print("torch peer self-test: %s" % ("%d failure(s)" % len(failures) if failures else "losses, augmentation and metrics agree with their direct formulas"))
    return 1 if failures else 0


def augment_self_test():
    """The identity map returns the image; integer shifts and flips move pixels exactly; SimAugment and
    RandAugment views stay in [0, 1]."""
    failures = []
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 1, 28, 28, generator=g)
    if not torch.allclose(augment.warp(x, [augment.identity()] * 3), x, atol=1e-5):
        failures.append("augment: the identity warp changes the image")
    shifted = augment.warp(x[:1], [augment.pad_crop(2, 0, 3)])[0, 0]  # content moves by (pad - ox, pad - oy) = (-1, 2)
    want = torch.zeros(28, 28)
    want[2:, :27] = x[0, 0, :26, 1:]
    if not torch.allclose(shifted, want, atol=1e-5):
        failures.append("augment: pad-and-crop is not the integer shift torchvision's RandomCrop makes")
    flipped = augment.warp(x[:1], [augment.flip_x(28)])[0, 0]
    if not torch.allclose(flipped, x[0, 0].flip(1), atol=1e-5):
        failures.append("augment: flip_x is not a horizontal flip")
    aug = augment.Augmenter(x, 0.0, 1.0)
    for policy in ("sim", "randaugment"):
        v = aug.views(torch.arange(3), [policy] * 4, lambda k: np.random.default_rng(k))
        if v.shape != (12, 1, 28, 28) or v.min() < 0 or v.max() > 1:
            failures.append("augment: %s views leave [0, 1] or have shape %s" % (policy, tuple(v.shape)))
    return failures


def metrics_self_test():
    failures = []
    r = np.random.default_rng(3)
    scores, labels = r.integers(0, 5, 40).astype(float), r.integers(0, 2, 40)
    pairs = [(a, b) for a in scores[labels == 1] for b in scores[labels == 0]]
    want = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in pairs) / len(pairs)
    if abs(metrics.roc_auc(scores, labels) - want) > 1e-12:
        failures.append("metrics: ROC AUC %.6f, pair count %.6f" % (metrics.roc_auc(scores, labels), want))
    return failures


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print("usage: python3 bench/peer/torch_cell.py CONFIG.json OUT_DIR  |  --self-test", file=sys.stderr)
        return 2
    try:
        run(argv[0], argv[1])
    except NotImplementedRecipe as e:
        print("torch peer: recipe %s is not implemented" % e.args[0], file=sys.stderr)
        return 3
    except BadInput as e:
        msg = str(e)
        print(msg if msg.startswith("torch peer:") else "torch peer: " + msg, file=sys.stderr)
        return 2
    except FloatingPointError as e:
        print("torch peer: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
