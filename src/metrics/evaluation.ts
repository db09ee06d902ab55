// Classifier evaluation extras on the CPU (O(n log n) at most): confusion matrix, balanced accuracy and
// the exact binary ROC AUC.

function checkPairs(op: string, predicted: ArrayLike<number>, labels: ArrayLike<number>, classes: number): void {
  if (predicted.length !== labels.length) throw new Error(`${op}: ${predicted.length} predictions for ${labels.length} labels`);
  for (let i = 0; i < labels.length; i++) {
    for (const v of [labels[i], predicted[i]]) {
      if (!(Number.isInteger(v) && v >= 0 && v < classes)) throw new Error(`${op}: class ${v} at ${i} is outside [0, ${classes})`);
    }
  }
}

/** counts[label][predicted] over `classes` classes. */
export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number[][] {
  checkPairs('confusionMatrix', predicted, labels, classes);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]][predicted[i]]++;
  return m;
}

/** Mean recall over the classes present in `labels` (absent classes are skipped, as scikit-learn warns). */
export function balancedAccuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  const m = confusionMatrix(predicted, labels, classes);
  const recalls = m.map((row, c) => [row[c], row.reduce((s, v) => s + v, 0)]).filter(([, total]) => total > 0);
  return recalls.reduce((s, [hit, total]) => s + hit / total, 0) / recalls.length;
}

/**
 * Exact ROC AUC of `scores` (higher = class 1) against 0/1 labels, by the Mann–Whitney U statistic with
 * average ranks for tied scores: AUC = (R₁ − n₁(n₁ + 1)/2) / (n₁ n₀), so a tie counts one half.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (scores.length !== labels.length) throw new Error(`rocAuc: ${scores.length} scores for ${labels.length} labels`);
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw new Error(`rocAuc: label ${labels[i]} at ${i} is not 0 or 1`);
    if (Number.isNaN(scores[i])) throw new Error(`rocAuc: score at ${i} is NaN`);
    pos += labels[i];
  }
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) throw new Error('rocAuc: needs samples of both classes');
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  for (let lo = 0; lo < order.length; ) {
    let hi = lo;
    while (hi + 1 < order.length && scores[order[hi + 1]] === scores[order[lo]]) hi++;
    const rank = (lo + hi) / 2 + 1; // average 1-based rank of the tie group
    for (let j = lo; j <= hi; j++) if (labels[order[j]] === 1) rankSum += rank;
    lo = hi + 1;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
