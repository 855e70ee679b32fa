package dev.agentfs.examples.cli;

/** A command line the CLI cannot act on; printed with the usage hint and exit status 2. */
public final class UsageException extends Exception {
  private static final long serialVersionUID = 1L;

  public UsageException(String message) {
    super(message);
  }
}
