"""The losses of our recipes, each written next to its formula (the released codes' readings, as our
src/losses/contrastive.ts computes them; docs/paper-vs-code.md says where papers and codes differ).

Conventions shared by the contrastive losses: `features` [B, V, D] holds V views of B samples, already
L2-normalised by the projection head; the rows are flattened view-major (row v*B + i is view v of sample
i); s_rj = z_r . z_j / T; the anchor's own column is dropped from the denominator and the positives;
the result is the MEAN over the V*B anchors (the papers sum).

One helper does the arithmetic every loss shares, for anchor r with column weights w_rj >= 0 and
positives p_rj in {0, 1}:
    loss_r = -(1 / n_r) sum_j p_rj [ s_rj - log sum_j' w_rj' exp(s_rj') ],   n_r = sum_j p_rj
(an anchor without positives adds 0 but still counts in the mean). Each loss is a choice of the columns,
of w and of p.
"""
import math

import torch
import torch.nn.functional as F


def weighted_rows(s, w, p):
    """Per-anchor losses from logits s [R, N], weights w [R, N] (0 drops a column) and positives p [R, N]."""
    log_den = torch.logsumexp(s + torch.log(w), dim=1, keepdim=True)  # log sum_j w_rj exp(s_rj); log 0 = -inf drops j
    n = p.sum(1)
    return -(p * (s - log_den)).sum(1) / n.clamp(min=1)


def _flatten(features):
    b, v, d = features.shape
    return features.transpose(0, 1).reshape(v * b, d), b, v


def supcon(features, labels, temperature=0.07, base_temperature=0.07):
    """SupCon (Khosla et al. Eq. 2; SupContrast's SupConLoss):
        L_r = -(T / T_base) (1/|P(r)|) sum_{p in P(r)} log( exp(s_rp) / sum_{j != r} exp(s_rj) )
    P(r) = the other rows of r's class. labels None: every sample its own class (NT-Xent)."""
    z, b, v = _flatten(features)
    sample = torch.arange(b).repeat(v)
    y = sample if labels is None else labels.repeat(v)
    not_self = ~torch.eye(v * b, dtype=torch.bool)
    pos = (y[:, None] == y[None, :]) & not_self
    s = z @ z.t() / temperature
    return (temperature / base_temperature * weighted_rows(s, not_self.to(s.dtype), pos.to(s.dtype))).mean()


def nt_xent(features, temperature=0.07):
    """NT-Xent (SimCLR): the only positive of a view is its sample's other view, mean over the 2B anchors,
    no T / T_base factor (the SimCLR paper's mean)."""
    return supcon(features, None, temperature, base_temperature=temperature)


def supmin(features, labels, temperature=0.07, base_temperature=0.07, minority=1):
    """SupMin (Two Classes Eq. 9, as its code: one SupCon call with another positive mask): a minority
    anchor's positives are all other minority views (SupCon on the minority); a majority anchor's only
    positive is its own other view (NT-Xent on the majority). One shared denominator over all other
    views of both classes, x T / T_base, mean over the 2B anchors."""
    z, b, v = _flatten(features)
    sample = torch.arange(b).repeat(v)
    y = labels.repeat(v)
    not_self = ~torch.eye(v * b, dtype=torch.bool)
    both_minority = (y[:, None] == minority) & (y[None, :] == minority)
    pos = ((sample[:, None] == sample[None, :]) | both_minority) & not_self
    s = z @ z.t() / temperature
    return (temperature / base_temperature * weighted_rows(s, not_self.to(s.dtype), pos.to(s.dtype))).mean()


def supproto(features, labels, prototypes, temperature=0.07, base_temperature=0.07, eps=(1.0, 1.0)):
    """SupProto (Two Classes Eq. 10-12, as its code), prototypes [p_0; p_1] fixed:
        L_r = -(T / T_base) (1/n_r) [ log( exp(s_r,partner) / sum_{j != r} exp(s_rj) )
                                     + pulled_r log( exp(z_r . p_y / T) / sum_{j != r} exp(s_rj) ) ]
    with n_r = 1 + pulled_r: NT-Xent over the views (the prototypes never in the denominator), plus the
    own prototype as a second positive when the anchor is 'pulled', cos(z, p_y) <= cos(z, p_other) + eps_y
    (un-tempered, no gradient through the test; with antipodal prototypes and eps 1: cos(z, p_y) <= 0.5).
    The code averages the two terms where the paper adds them."""
    z, b, v = _flatten(features)
    sample = torch.arange(b).repeat(v)
    y = labels.repeat(v)
    protos = prototypes.detach()
    cos = z @ protos.t()                                  # [R, 2]
    own, other = cos.gather(1, y[:, None])[:, 0], cos.gather(1, (1 - y)[:, None])[:, 0]
    eps_y = torch.as_tensor(eps, dtype=z.dtype)[y]
    pulled = (own <= other + eps_y).detach()
    not_self = ~torch.eye(v * b, dtype=torch.bool)
    pos = (sample[:, None] == sample[None, :]) & not_self
    # Columns: the 2B views (weight 1, self dropped), then the two prototypes (weight 0: not in the
    # denominator; positive: the own one, when pulled).
    s = torch.cat([z @ z.t(), cos], 1) / temperature
    w = torch.cat([not_self.to(z.dtype), torch.zeros(v * b, 2, dtype=z.dtype)], 1)
    proto_pos = F.one_hot(y, 2).to(z.dtype) * pulled[:, None].to(z.dtype)
    p = torch.cat([pos.to(z.dtype), proto_pos], 1)
    return (temperature / base_temperature * weighted_rows(s, w, p)).mean()


def bcl(features, labels, prototypes, num_classes, temperature=0.1, class_averaging=True):
    """Balanced contrastive loss (BCL Eq. 9, as its code BalSCL), columns = the V*B views and the K
    prototypes c_k (class k; None for the averaging-only ablation, Eq. 6):
        L_r = -(1/|P(r)|) sum_{p in P(r)} [ s_rp - log sum_{j != r} exp(s_rj) / (cnt[y_j] - [y_j = y_r]) ]
    P(r) = the other views of r's class and its prototype; cnt[c] = V * (samples of c in the batch)
    + 1 (its prototype; + 0 without prototypes). So the denominator sums, over the classes, the mean of
    exp over that class's columns other than the anchor (class-averaging). class_averaging False: every
    column weight 1 (the class-complement ablation, prototypes kept). No T / T_base factor."""
    z, b, v = _flatten(features)
    y = labels.repeat(v)
    not_self = ~torch.eye(v * b, dtype=torch.bool)
    s = z @ z.t()
    y_cols, w_cols = y, not_self.to(z.dtype)
    if prototypes is not None:
        k = prototypes.shape[0]
        s = torch.cat([s, z @ prototypes.t()], 1)
        y_cols = torch.cat([y, torch.arange(k)])
        w_cols = torch.cat([w_cols, torch.ones(v * b, k, dtype=z.dtype)], 1)
    pos = (y[:, None] == y_cols[None, :]).to(z.dtype) * (w_cols > 0).to(z.dtype)
    if class_averaging:
        cnt = torch.bincount(y_cols, minlength=num_classes).to(z.dtype)
        w_cols = w_cols / (cnt[y_cols][None, :] - pos)   # self column: 0 / (cnt - 0) = 0, still dropped
    return weighted_rows(s / temperature, w_cols, pos).mean()


def logit_adjustment(train_counts, tau=1.0):
    """tau * log(n_c / sum n) with the TRAINING-set counts (BCL's logit compensation; balanced softmax is tau = 1)."""
    n = torch.as_tensor(train_counts, dtype=torch.float64)
    return (tau * torch.log(n / n.sum())).float()


def logit_adjusted_ce(logits, labels, adjustment):
    """CE(z + tau log p, y): the shift acts in the loss only; predictions use the raw logits."""
    return F.cross_entropy(logits + adjustment, labels)


# ----------------------------------------------------------------------------------------- self-test
# Direct float64 formulas, one anchor at a time, without the masks and weights above.

def _ref_rows(anchors, cols):
    """Mean over the anchors of -(1/|pos|) sum_pos log(exp(pos) / den); cols(r) -> (den, [positive logits])."""
    out = []
    for r in range(anchors):
        den, positives = cols(r)
        out.append(-sum(p - math.log(den) for p in positives) / len(positives) if positives else 0.0)
    return sum(out) / len(out)


def _reference(kind, f, y, t, protos=None, eps=(1.0, 1.0), averaging=True, k=2):
    b, v, _ = f.shape
    z = [f[i % b, i // b] for i in range(v * b)]
    lab = [int(y[i % b]) for i in range(v * b)]
    dot = lambda a, c: float(a @ c) / t  # noqa: E731

    def cols(r):
        others = [j for j in range(v * b) if j != r]
        if kind in ("supcon", "ntxent", "supmin"):
            den = sum(math.exp(dot(z[r], z[j])) for j in others)
            if kind == "supcon":
                pos = [j for j in others if lab[j] == lab[r]]
            elif kind == "ntxent":
                pos = [j for j in others if j % b == r % b]
            else:
                pos = [j for j in others if j % b == r % b or lab[j] == lab[r] == 1]
            return den, [dot(z[r], z[j]) for j in pos]
        if kind == "supproto":
            den = sum(math.exp(dot(z[r], z[j])) for j in others)
            pos = [dot(z[r], z[j]) for j in others if j % b == r % b]
            c = lab[r]
            if float(z[r] @ protos[c]) <= float(z[r] @ protos[1 - c]) + eps[c]:
                pos.append(dot(z[r], protos[c]))
            return den, pos
        # bcl: class c's columns = its views (other than r) and its prototype.
        members = {c: [z[j] for j in others if lab[j] == c] + ([protos[c]] if protos is not None else []) for c in range(k)}
        if averaging:
            den = sum(sum(math.exp(dot(z[r], m)) for m in ms) / len(ms) for ms in members.values() if ms)
        else:
            den = sum(math.exp(dot(z[r], m)) for ms in members.values() for m in ms)
        return den, [dot(z[r], m) for m in members[lab[r]]]

    return _ref_rows(v * b, cols)


def self_test():
    """Each loss against its direct float64 formula on random inputs; returns a list of failures."""
    g = torch.Generator().manual_seed(0)
    failures = []
    for trial in range(3):
        b, d, k = 7 + trial, 5, 3
        f = F.normalize(torch.randn(b, 2, d, generator=g, dtype=torch.float64), dim=2)
        y2 = torch.randint(0, 2, (b,), generator=g)
        y2[0], y2[1] = 0, 1
        yk = torch.randint(0, k, (b,), generator=g)
        p = F.normalize(torch.randn(1, d, generator=g, dtype=torch.float64), dim=1)
        antipodal = torch.cat([p, -p])
        protos_k = F.normalize(torch.randn(k, d, generator=g, dtype=torch.float64), dim=1)
        t = 0.1 + 0.05 * trial
        cases = [
            ("supcon", supcon(f, yk, t, t), _reference("supcon", f, yk, t)),
            ("supcon T/T_base", supcon(f, yk, t), (t / 0.07) * _reference("supcon", f, yk, t)),
            ("nt-xent", nt_xent(f, t), _reference("ntxent", f, yk, t)),
            ("supmin", supmin(f, y2, t, t), _reference("supmin", f, y2, t)),
            ("supproto", supproto(f, y2, antipodal, t, t, (1.0, 0.5)), _reference("supproto", f, y2, t, antipodal, (1.0, 0.5))),
            ("bcl", bcl(f, yk, protos_k, k, t), _reference("bcl", f, yk, t, protos_k, k=k)),
            ("bcl complement", bcl(f, yk, protos_k, k, t, class_averaging=False), _reference("bcl", f, yk, t, protos_k, averaging=False, k=k)),
            ("bcl averaging", bcl(f, yk, None, k, t), _reference("bcl", f, yk, t, None, k=k)),
        ]
        for name, got, want in cases:
            if not abs(float(got) - want) <= 1e-9 * max(1.0, abs(want)):
                failures.append("%s (trial %d): %.12g, formula %.12g" % (name, trial, float(got), want))
    # Logit adjustment: CE(z + log prior) == -log( n_y e^{z_y} / sum_c n_c e^{z_c} ).
    counts = [50, 10, 3]
    z = torch.randn(4, 3, generator=g)
    yy = torch.tensor([0, 1, 2, 1])
    got = float(logit_adjusted_ce(z, yy, logit_adjustment(counts)))
    want = sum(-math.log(counts[int(c)] * math.exp(float(z[i, c])) / sum(n * math.exp(float(z[i, j])) for j, n in enumerate(counts))) for i, c in enumerate(yy)) / 4
    if abs(got - want) > 1e-5:
        failures.append("logit-adjusted CE: %.8g, formula %.8g" % (got, want))
    return failures
