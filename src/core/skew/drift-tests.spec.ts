import {
  chiSquarePValue,
  chiSquareSurvival,
  defaultMethod,
  isDrift,
  jensenShannonDistance,
  ksPValue,
  lInfinity,
  normedWasserstein,
  psi,
  sturgesBins,
  zTestPValue,
} from './drift-tests';

// Expected values computed with scipy 1.17.1 / numpy 2.4.6 (the functions Evidently calls).
describe('drift tests', () => {
  it.each([
    [200, 300, 0.06666666666666667, 0.6434024642847772],
    [200, 300, 0.17333333333333334, 0.0013316483941488344],
    [1000, 800, 0.06575, 0.041040314094723473],
    [50, 60, 0.3433333333333333, 0.0023468796558130936],
    [1000, 1000, 0.046, 0.24068202486600215],
  ])('K-S p-value for n=%i/%i, D=%f is within 0.01 of scipy exact', (n1, n2, d, scipy) => {
    expect(Math.abs(ksPValue(d, n1, n2) - scipy)).toBeLessThan(0.01);
  });

  it('K-S with the samples apart and together', () => {
    expect(ksPValue(0, 500, 500)).toBe(1);
    expect(ksPValue(1, 500, 500)).toBeLessThan(1e-100);
  });

  it.each([
    [3.84, 1, 0.05004352124870519],
    [10, 4, 0.04042768199451279],
    [0.5, 2, 0.7788007830714049],
    [50, 30, 0.01240206071890054],
    [120, 99, 0.07424385580596692],
    [1e-3, 3, 0.9999915920809419],
  ])('chi-squared survival at x=%f, dof=%i matches scipy', (x, dof, scipy) => {
    expect(chiSquareSurvival(x, dof)).toBeCloseTo(scipy, 9);
  });

  it('chi-squared goodness of fit against reference proportions matches scipy.stats.chisquare', () => {
    expect(chiSquarePValue([30, 50, 20], [25, 45, 40])).toBeCloseTo(9.684253564044746e-5, 10);
    expect(chiSquarePValue([30, 50, 20], [30, 50, 20])).toBe(1);
    expect(chiSquarePValue([30, 50, 0], [30, 50, 1])).toBe(0); // a category the reference never saw
  });

  it('Jensen-Shannon distance, PSI and L-infinity match scipy / numpy', () => {
    expect(jensenShannonDistance([30, 50, 20], [25, 45, 40])).toBeCloseTo(0.1297765414416149, 10);
    expect(psi([30, 50, 20], [25, 45, 40])).toBeCloseTo(0.1362620623728083, 10);
    expect(lInfinity([30, 50, 20], [25, 45, 40])).toBeCloseTo(40 / 110 - 0.2, 12);
    expect(jensenShannonDistance([1, 2], [2, 4])).toBeCloseTo(0, 12);
  });

  it('two-proportion Z-test matches the normal-approximation p-value', () => {
    expect(zTestPValue([120, 280], [190, 310])).toBeCloseTo(0.0120838560846519, 6);
    expect(zTestPValue([400, 0], [500, 0])).toBe(1);
  });

  it('norms Wasserstein by the reference spread, and bins by Sturges', () => {
    expect(normedWasserstein(2.25, 1.118033988749895)).toBeCloseTo(2.0124611797498106, 12);
    expect(normedWasserstein(0.5, 0)).toBe(500);
    expect(sturgesBins(1000)).toBe(11);
    expect(sturgesBins(1)).toBe(1);
  });

  it('chooses tests by type and size as Evidently does', () => {
    expect(defaultMethod('numerical', 1000, 50)).toBe('ks');
    expect(defaultMethod('numerical', 1001, 50)).toBe('wasserstein');
    expect(defaultMethod('numerical', 500, 4)).toBe('chisquare');
    expect(defaultMethod('categorical', 500, 2)).toBe('z');
    expect(defaultMethod('categorical', 5000, 2)).toBe('jensenshannon');
    expect(defaultMethod('numerical', 5000, 3)).toBe('jensenshannon');
  });

  it('reads p-values and distances the right way round', () => {
    expect(isDrift('ks', 0.01, 0.05)).toBe(true);
    expect(isDrift('ks', 0.2, 0.05)).toBe(false);
    expect(isDrift('wasserstein', 0.1, 0.1)).toBe(true);
    expect(isDrift('psi', 0.05, 0.1)).toBe(false);
  });
});
