package dev.agentfs.examples.bench;

import java.util.Collection;

/**
 * Median and spread of a handful of samples.
 *
 * @param n number of samples
 * @param median the middle sample (mean of the two middle ones for an even count)
 * @param min smallest sample
 * @param max largest sample
 */
public record Stats(int n, double median, double min, double max) {
  public static Stats of(Collection<Double> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("no samples");
    }
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = v.length;
    double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return new Stats(n, median, v[0], v[n - 1]);
  }

  /** Spread as a fraction of the median: (max - min) / median. */
  public double spread() {
    return median == 0 ? 0 : (max - min) / median;
  }
}
