package dev.agentfs.examples.bench;

import java.util.Map;

/**
 * One measurement: a timed phase of a workload on one configuration.
 *
 * @param config configuration name
 * @param workload measurement name (a workload may time several phases, e.g. git_add)
 * @param index sample number, from 0
 * @param seconds wall-clock time of the timed part
 * @param amount bytes or operations done in that time
 * @param unit {@code "bytes"} or {@code "ops"}
 * @param fuseRequests FUSE requests by opcode during the timed part (empty for native)
 */
public record Sample(String config, String workload, int index, double seconds, long amount,
    String unit, Map<String, Long> fuseRequests) {
  /** Amount per second: bytes/s or ops/s. */
  public double rate() {
    return seconds > 0 ? amount / seconds : 0;
  }
}
