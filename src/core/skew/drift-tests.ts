import { DriftMethod } from '../definitions';

/**
 * The statistics behind drift tests, on aggregates the engine computed (a K-S statistic, bin or
 * category counts) — never on rows. Conventions follow Evidently's defaults: p-value tests drift
 * when p < threshold, distances when distance ≥ threshold.
 */

export type FeatureKind = 'numerical' | 'categorical';

export const P_VALUE_METHODS: readonly DriftMethod[] = ['ks', 'chisquare', 'z'];
export const DEFAULT_THRESHOLDS: Record<DriftMethod, number> = { ks: 0.05, chisquare: 0.05, z: 0.05, wasserstein: 0.1, jensenshannon: 0.1, psi: 0.1, linf: 0.1 };

/**
 * Evidently's default choice by type and size: with at most 1000 reference rows, K-S for numbers
 * (more than 5 distinct values), chi-squared for categories, a Z-test for two categories; with
 * more, normed Wasserstein distance for numbers and Jensen-Shannon distance for the rest.
 */
export function defaultMethod(kind: FeatureKind, referenceCount: number, distinctValues: number): DriftMethod {
  const continuous = kind === 'numerical' && distinctValues > 5;
  if (referenceCount <= 1000) {
    if (continuous) return 'ks';
    return distinctValues > 2 ? 'chisquare' : 'z';
  }
  return continuous ? 'wasserstein' : 'jensenshannon';
}

/** Whether a method needs the raw order of numbers (K-S, Wasserstein) rather than bin or category counts. */
export function needsNumbers(method: DriftMethod): boolean {
  return method === 'ks' || method === 'wasserstein';
}

export function isDrift(method: DriftMethod, score: number, threshold: number): boolean {
  return P_VALUE_METHODS.includes(method) ? score < threshold : score >= threshold;
}

/**
 * Two-sample Kolmogorov-Smirnov p-value for statistic `d`, from the Kolmogorov distribution with
 * Stephens' small-sample correction (Numerical Recipes §14.3). scipy's exact mode differs from
 * it by less than 0.01 for the sizes where Evidently uses K-S (see drift-tests.spec.ts).
 */
export function ksPValue(d: number, n1: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  const en = Math.sqrt((n1 * n2) / (n1 + n2));
  return kolmogorovQ((en + 0.12 + 0.11 / en) * d);
}

function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1;
  let sum = 0;
  let sign = 1;
  for (let j = 1; j <= 100; j++) {
    const term = sign * Math.exp(-2 * j * j * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-12 * Math.abs(sum)) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * Pearson's chi-squared goodness-of-fit of the current counts against the reference proportions
 * (scipy.stats.chisquare as Evidently calls it). A category the reference never saw has expected
 * count 0 and makes the p-value 0.
 */
export function chiSquarePValue(reference: number[], current: number[]): number {
  const nRef = sum(reference);
  const nCur = sum(current);
  if (nRef === 0 || nCur === 0 || reference.length < 2) return 1;
  let statistic = 0;
  for (let i = 0; i < reference.length; i++) {
    const expected = (reference[i] / nRef) * nCur;
    if (expected === 0) {
      if (current[i] > 0) return 0;
      continue;
    }
    statistic += (current[i] - expected) ** 2 / expected;
  }
  return chiSquareSurvival(statistic, reference.length - 1);
}

/** Two-proportion Z-test on the share of the first category (Evidently's test for binary features). */
export function zTestPValue(reference: number[], current: number[]): number {
  const nRef = sum(reference);
  const nCur = sum(current);
  if (nRef === 0 || nCur === 0) return 1;
  const p1 = reference[0] / nRef;
  const p2 = current[0] / nCur;
  const pooled = (reference[0] + current[0]) / (nRef + nCur);
  const variance = pooled * (1 - pooled) * (1 / nRef + 1 / nCur);
  if (variance === 0) return 1;
  return 2 * normalSurvival(Math.abs(p1 - p2) / Math.sqrt(variance));
}

/** Shares per bin, with empty bins at 0.0001 so logarithms stay finite (Evidently's `feel_zeroes`). */
export function shares(counts: number[]): number[] {
  const total = sum(counts);
  return counts.map((c) => (total === 0 || c === 0 ? 0.0001 : c / total));
}

/** Jensen-Shannon distance in nats (scipy.spatial.distance.jensenshannon's default base). */
export function jensenShannonDistance(reference: number[], current: number[]): number {
  const p = normalise(shares(reference));
  const q = normalise(shares(current));
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    divergence += (p[i] * Math.log(p[i] / m) + q[i] * Math.log(q[i] / m)) / 2;
  }
  return Math.sqrt(Math.max(0, divergence));
}

/** Population Stability Index: Σ (ref − cur) · ln(ref / cur) over bins. */
export function psi(reference: number[], current: number[]): number {
  const p = shares(reference);
  const q = shares(current);
  return p.reduce((total, pi, i) => total + (pi - q[i]) * Math.log(pi / q[i]), 0);
}

/** L-infinity distance: the largest difference in a category's share. */
export function lInfinity(reference: number[], current: number[]): number {
  const nRef = sum(reference) || 1;
  const nCur = sum(current) || 1;
  return reference.reduce((max, r, i) => Math.max(max, Math.abs(r / nRef - current[i] / nCur)), 0);
}

/** Wasserstein-1 distance divided by the reference's standard deviation (at least 0.001), as Evidently norms it. */
export function normedWasserstein(distance: number, referenceStd: number): number {
  return distance / Math.max(referenceStd, 0.001);
}

/** Sturges' rule, as numpy's `histogram_bin_edges(bins="sturges")`: ⌈log2 n⌉ + 1 bins. */
export function sturgesBins(n: number): number {
  return n <= 1 ? 1 : Math.ceil(Math.log2(n) + 1);
}

/** Upper tail of the chi-squared distribution: Q(k/2, x/2), the regularised upper incomplete gamma. */
export function chiSquareSurvival(x: number, dof: number): number {
  if (x <= 0) return 1;
  return gammaQ(dof / 2, x / 2);
}

/** Upper tail of the standard normal distribution. */
export function normalSurvival(z: number): number {
  return erfc(z / Math.SQRT2) / 2;
}

function gammaQ(a: number, x: number): number {
  if (x < a + 1) return 1 - gammaSeries(a, x);
  return gammaContinuedFraction(a, x);
}

function gammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let total = term;
  for (let n = 1; n < 1000; n++) {
    term *= x / (a + n);
    total += term;
    if (Math.abs(term) < Math.abs(total) * 1e-15) break;
  }
  return total * Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

/** Lentz's method for the continued fraction of Q(a, x) (Numerical Recipes §6.2). */
function gammaContinuedFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
}

const LANCZOS = [676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Γ(x) by the Lanczos approximation (g = 7), accurate to ~15 digits for x > 0. */
function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  LANCZOS.forEach((coefficient, i) => (a += coefficient / (z + i + 1)));
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Complementary error function (Numerical Recipes' erfcc; fractional error below 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function normalise(values: number[]): number[] {
  const total = sum(values);
  return values.map((v) => v / total);
}
