"""Evaluation figures with our definitions and units (src/metrics/accuracy.ts, evaluation.ts,
two-classes.ts): accuracies are FRACTIONS in [0, 1]; SAA and CAC are PERCENTAGES (0-100); many / medium /
few group the classes by training count (> 100, 20-100, < 20 images); a figure of an empty group is NaN
(null in JSON)."""
import math

import numpy as np
import torch


def accuracy_report(predicted, labels, train_counts):
    """top1, perClass, classAverage (mean over the classes present), many, medium, few."""
    classes = len(train_counts)
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    per_class = []
    for c in range(classes):
        rows = labels == c
        per_class.append(float((predicted[rows] == c).mean()) if rows.any() else math.nan)
    present = [c for c in range(classes) if (labels == c).any()]

    def group(test):
        values = [per_class[c] for c in present if test(train_counts[c])]
        return float(np.mean(values)) if values else math.nan

    return {
        "top1": float((predicted == labels).mean()) if len(labels) else math.nan,
        "perClass": per_class,
        "classAverage": float(np.mean([per_class[c] for c in present])),
        "many": group(lambda n: n > 100),
        "medium": group(lambda n: 20 <= n <= 100),
        "few": group(lambda n: n < 20),
    }


def balanced_accuracy(predicted, labels, classes):
    """Mean recall over the classes present in `labels`."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    return float(np.mean([(predicted[labels == c] == c).mean() for c in range(classes) if (labels == c).any()]))


def roc_auc(scores, labels):
    """Exact ROC AUC (Mann-Whitney U, average ranks for ties: a tie counts one half); label 1 positive."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    s = scores[order]
    lo = 0
    while lo < len(s):
        hi = lo
        while hi + 1 < len(s) and s[hi + 1] == s[lo]:
            hi += 1
        ranks[order[lo:hi + 1]] = (lo + hi) / 2 + 1
        lo = hi + 1
    pos = int(labels.sum())
    neg = len(labels) - pos
    return float((ranks[labels == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def score_logits(z, labels, train_counts):
    """Predictions (first maximum on ties) and the report; with two classes also `auc` of z_1 - z_0."""
    predicted = z.argmax(1).numpy()
    report = accuracy_report(predicted, labels, train_counts)
    if len(train_counts) == 2:
        report["auc"] = roc_auc((z[:, 1] - z[:, 0]).double().numpy(), labels)
    return predicted, report


def two_classes_metrics(x, labels, neighbourhood=0.05):
    """The Two-Classes metrics as the paper's code computes them (our defaults), for embeddings x
    [2N, D] (L2-normalised; view-major: row v*N + i is view v of sample i) and per-sample labels [N]:
      SAD  per sample: ||f(view 0) - f(view 1)||; sadMean = its mean over all samples;
      SAA  100 x share of the class's VIEWS whose nearest other view is the other view of the same sample;
      CAD  per view: sum of its distances to the class's views / n_c (n_c views, the zero self-distance
           included); the class figure is the mean over its views;
      CAC  per view: 100 x same-class share of its m nearest views, m = floor(2N x 5 %), the view itself
           counting as its first neighbour (the code on a fresh distance matrix); mean over the views;
      uniformity  mean over the class's view pairs i < j of exp(-2 ||x_i - x_j||^2) (no log).
    Distances in float64 (Euclidean)."""
    x = x.double()
    n = len(labels)
    all_labels = torch.as_tensor(np.concatenate([labels, labels]))
    total = 2 * n
    m = math.floor(total * neighbourhood)
    sq = (x * x).sum(1)
    d = (sq[:, None] + sq[None, :] - 2 * x @ x.t()).clamp(min=0).sqrt()  # Euclidean, float64
    d.fill_diagonal_(0)
    sad = (x[:n] - x[n:]).norm(dim=1)
    others = d.clone()
    others.fill_diagonal_(math.inf)
    nearest = others.argmin(1)
    rows = torch.arange(total)
    saa_hit = (nearest % n == rows % n) & (nearest // n != rows // n)
    # The m - 1 nearest other views.
    neighbours = torch.topk(others, m - 1, dim=1, largest=False).indices
    same_in_top = (all_labels[neighbours] == all_labels[:, None]).sum(1)
    classes = []
    for label in sorted(set(int(v) for v in labels)):
        views = torch.nonzero(all_labels == label)[:, 0]
        nc = len(views)
        block = d[views[:, None], views]
        pairs = block[torch.triu(torch.ones(nc, nc, dtype=torch.bool), diagonal=1)]
        classes.append({
            "label": label,
            "samples": nc // 2,
            "sad": float(sad[torch.as_tensor(labels) == label].mean()),
            "saa": float(100 * saa_hit[views].double().mean()),
            "cad": float((block.sum(1) / nc).mean()),
            "cac": float((100 * (same_in_top[views] + 1).double() / m).mean()),
            "uniformity": float(torch.exp(-2 * pairs ** 2).mean()),
        })
    return {"sadMean": float(sad.mean()), "m": m, "classes": classes}
