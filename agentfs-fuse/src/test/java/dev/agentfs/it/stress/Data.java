package dev.agentfs.it.stress;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The bytes a stress write puts into a file, computed from a tag and a length, so a log
 * records two numbers instead of the data and a python child makes the very same bytes
 * (ops_server.py computes the same formula).
 */
public final class Data {
  private Data() {}

  public static byte[] bytes(int tag, int len) {
    byte[] b = new byte[len];
    int k = tag * 31;
    for (int i = 0; i < len; i++) {
      b[i] = (byte) (i * 7 + (i >>> 8) + k);
    }
    return b;
  }

  public static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
