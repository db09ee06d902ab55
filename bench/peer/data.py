"""The data protocol of a run, as src/train/data.ts, src/data/longtail.ts, src/data/binary.ts and
src/data/samplers.ts define it: which training and test images, under which labels, and in which
batches. The subset SIZES per class are exactly ours; which images fill them is drawn from the seed with
numpy's own generator (our Rng streams are not reproduced), keeping the same structure: each class is
shuffled by its own stream and the first n_c are kept, so a smaller count picks a subset of a larger
one's picks.
"""
import gzip
import math
import os

import numpy as np

# Stream tags, one per kind of draw (as src/data/random.ts STREAM): equal seeds, unrelated draws.
LONG_TAIL, BALANCED, EPOCH_ORDER, BINARY, PROBE, CLASS_BALANCED, AUGMENT, EVERY_CLASS, VIEWS = range(1, 10)

DATASETS = {
    # name: (title, class names, normalisation mean/std, environment variable, Debian folder)
    "fashion-mnist": ("Fashion-MNIST", ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
                      (0.286, 0.353), "FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"),
    "mnist": ("MNIST", [str(i) for i in range(10)], (0.1307, 0.3081), "MNIST_DIR", None),
}
IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"), "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


class BadInput(Exception):
    """A configuration or data problem the user must fix: one line, exit status 2."""


def rng(seed, *stream):
    """A numpy generator for one named stream of the seed, e.g. rng(seed, LONG_TAIL, c)."""
    return np.random.default_rng([seed, *stream])


# ----------------------------------------------------------------------------------------------- files

def _read_idx(path, what):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise BadInput("%s: cannot gunzip (%s): the file is corrupt or truncated" % (path, e))
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise BadInput("%s: not an IDX file of unsigned bytes" % path)
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)) or dims != (3 if what == "images" else 1):
        raise BadInput("%s: expected %s, got an IDX file of shape %s and %d bytes of data" % (path, what, shape, body.size))
    return body.reshape(shape)


def _find(folder, base, hint):
    for name in (base + ".gz", base):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    where = "%s has neither %s.gz nor %s" % (folder, base, base) if os.path.isdir(folder) else "directory %s does not exist (looking for %s.gz or %s)" % (folder, base, base)
    raise BadInput("%s. %s" % (where, hint))


def load_dataset(cfg):
    """(train images uint8 [N, 1, 28, 28], train labels, test images, test labels, title, class names, (mean, std))."""
    name = cfg.get("dataset", "fashion-mnist")
    if name not in DATASETS:
        raise BadInput("torch peer: dataset %r is not supported (only %s)" % (name, ", ".join(DATASETS)))
    title, names, norm, env, default = DATASETS[name]
    folder = cfg.get("dataDir") or os.environ.get(env) or default
    hint = "Give the folder of the four IDX files with --data-dir (dataDir) or $%s." % env
    if not folder:
        raise BadInput("torch peer: no folder for %s: %s" % (name, hint))
    out = []
    for split in ("train", "test"):
        images = _read_idx(_find(folder, IDX_FILES[split][0], hint), "images")
        labels = _read_idx(_find(folder, IDX_FILES[split][1], hint), "labels")
        if images.shape[0] != labels.shape[0]:
            raise BadInput("%s: %d images but %d labels in the %s split" % (folder, images.shape[0], labels.shape[0], split))
        if labels.max() >= len(names):
            raise BadInput("%s: a %s label is out of range 0..%d" % (folder, split, len(names) - 1))
        out += [images[:, None, :, :], labels.astype(np.int64)]
    return (*out, title, names, norm)


# ------------------------------------------------------------------------------------------- subsets

def pick(by_class, want, seed, tag, unit="class"):
    """`want[c]` entries of each by_class[c], each list shuffled by its own stream (seed, tag, c); ascending."""
    chosen = []
    for c, (members, n) in enumerate(zip(by_class, want)):
        if len(members) < n:
            raise BadInput("%s %d has %d samples, %d are needed" % (unit, c, len(members), n))
        chosen += list(rng(seed, tag, c).permutation(np.asarray(members))[:n])
    return np.sort(np.asarray(chosen, dtype=np.int64))


def by_class(labels, classes):
    return [np.flatnonzero(labels == c) for c in range(classes)]


def long_tail_counts(n_max, classes, imbalance, profile):
    """n_c = floor(n_max * IF^(-c/(C-1))) (exp), or n_max for the first floor(C/2) classes and
    floor(n_max / IF) for the others (step); the reference code's arithmetic."""
    ratio = 1 / imbalance
    if profile == "step":
        return [n_max if c < classes // 2 else math.floor(n_max * ratio) for c in range(classes)]
    return [math.floor(n_max * ratio ** (c / (classes - 1))) for c in range(classes)]


def binary_counts(total, share):
    """[n_0, n_1]: the minority (label 1) gets floor(total * share) (rounded to 12 digits first), label 0 the rest."""
    m = math.floor(float("%.12g" % (total * share)))
    if m < 1:
        raise BadInput("a minority share of %g of %d samples leaves the minority empty (need total * share >= 1)" % (share, total))
    return [total - m, m]


def probe_per_class(n, classes, fraction):
    return max(1, math.floor(math.floor(fraction * n) / classes))


class Selection:
    """The protocol applied: training rows and labels, test rows and labels, counts, names."""


def select(cfg, train_labels, test_labels, title, names):
    """Our selectData (src/train/data.ts): the long-tail or binary training subset, the per-class cap and
    the balanced test subset, with the labels of the task (binary: a -> 0, b -> 1)."""
    seed = int(cfg.get("seed", 0))
    classes = len(names)
    sel = Selection()
    if cfg.get("binary"):
        a, b = (int(v) for v in cfg["binary"])
        if a >= classes or b >= classes or a == b:
            raise BadInput("--binary %d,%d: %s has classes 0 to %d (two different ones)" % (a, b, title, classes - 1))
        relabel = np.full(classes, -1)
        relabel[a], relabel[b] = 0, 1
        groups = [np.flatnonzero(train_labels == a), np.flatnonzero(train_labels == b)]
        total = int(cfg.get("binaryTotal", 0)) or 2 * (min(len(g) for g in groups) // 2)
        try:
            counts = binary_counts(total, float(cfg.get("minorityShare", 0.05)))
            train_idx = pick(groups, counts, seed, BINARY, "group")
        except BadInput as e:
            raise BadInput("--binary-total %d: %s" % (total, e)) if cfg.get("binaryTotal") else e
        classes, names = 2, [names[a], names[b]]
    else:
        relabel = np.arange(classes)
        groups = by_class(train_labels, classes)
        n_max = int(cfg.get("nMax", 0)) or min(len(g) for g in groups)
        counts = long_tail_counts(n_max, classes, float(cfg.get("imbalance", 100)), cfg.get("profile", "exp"))
        try:
            train_idx = pick(groups, counts, seed, LONG_TAIL)
        except BadInput as e:
            raise BadInput("--n-max %d: %s" % (n_max, e)) if cfg.get("nMax") else e
    limit = int(cfg.get("limitPerClass", 0))
    if limit > 0:
        # Our filter keeps the first `limit` rows of each class in ascending index order.
        taken, keep = np.zeros(classes, dtype=np.int64), []
        for i in train_idx:
            y = relabel[train_labels[i]]
            if taken[y] < limit:
                keep.append(i)
            taken[y] += 1
        train_idx = np.asarray(keep, dtype=np.int64)
    sel.train_idx = train_idx
    sel.train_labels = relabel[train_labels[train_idx]]
    sel.train_counts = np.bincount(sel.train_labels, minlength=classes).tolist()
    test_idx = np.flatnonzero(relabel[test_labels] >= 0)
    per_class = int(cfg.get("testPerClass", 0))
    if per_class > 0:
        try:
            picked = pick(by_class(relabel[test_labels[test_idx]], classes), [per_class] * classes, seed, BALANCED)
        except BadInput as e:
            raise BadInput("--test-per-class %d: %s" % (per_class, e))
        test_idx = test_idx[picked]
    sel.test_idx = test_idx
    sel.test_labels = relabel[test_labels[test_idx]]
    sel.classes, sel.class_names = classes, names
    return sel


def probe_subset(labels, classes, seed, fraction):
    """The balanced probe subset: probe_per_class(n, C, fraction) rows of every class (positions into `labels`)."""
    per = probe_per_class(len(labels), classes, fraction)
    try:
        return pick(by_class(labels, classes), [per] * classes, seed, PROBE)
    except BadInput as e:
        raise BadInput("--probe-fraction: the probe subset needs %d images of every class: %s" % (per, e))


def capped_subset(labels, classes, cap, seed):
    """At most `cap` rows of each class (all of a smaller class), ascending (the diagnostics' subsets)."""
    groups = by_class(labels, classes)
    return pick(groups, [min(len(g), cap) for g in groups], seed, BALANCED)


# ------------------------------------------------------------------------------------------ samplers

def batches(kind, labels, classes, batch_size, seed, epoch):
    """The batches of one epoch as position arrays into `labels` (src/data/samplers.ts), floor(n / B) of
    them (the trainer drops the last partial batch whatever the sampler):
    - shuffled: every sample once, in a seeded order;
    - class-balanced: each slot draws a class uniformly, then the next sample of that class's own
      shuffled cycle (reshuffled when used up);
    - every-class: one sample of every class (from the cycles), then filled from the epoch's shuffled
      order, skipping samples already in the batch."""
    n = len(labels)
    count = n // batch_size
    if kind == "shuffled":
        order = rng(seed, EPOCH_ORDER, epoch).permutation(n)
        return [order[b * batch_size:(b + 1) * batch_size] for b in range(count)]
    tag = CLASS_BALANCED if kind == "class-balanced" else EVERY_CLASS
    cycles = [_Cycle(g, rng(seed, tag, epoch, c)) for c, g in enumerate(by_class(labels, classes))]
    if any(len(c.order) == 0 for c in cycles):
        raise BadInput("the %s sampler needs every class in the training set" % kind)
    if kind == "class-balanced":
        draw = rng(seed, tag, epoch)
        return [np.array([cycles[draw.integers(classes)].next() for _ in range(batch_size)]) for _ in range(count)]
    if kind != "every-class":
        raise BadInput("unknown sampler %r" % kind)
    if batch_size < classes:
        raise BadInput("--batch-size %d is smaller than the %d classes the every-class sampler puts in every batch" % (batch_size, classes))
    order, nxt, out = rng(seed, EPOCH_ORDER, epoch).permutation(n), 0, []
    for _ in range(count):
        batch = {c.next() for c in cycles}
        while len(batch) < batch_size:
            batch.add(int(order[nxt % n]))
            nxt += 1
        out.append(np.array(sorted(batch)))
    return out


class _Cycle:
    def __init__(self, members, generator):
        self.rng, self.order, self.at = generator, generator.permutation(members), 0

    def next(self):
        if self.at == len(self.order):
            self.order, self.at = self.rng.permutation(self.order), 0
        self.at += 1
        return int(self.order[self.at - 1])
