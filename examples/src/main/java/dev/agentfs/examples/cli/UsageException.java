package dev.agentfs.examples.cli;

/** A command line the CLI cannot act on; printed with the usage hint and exit status 2. */
final class UsageException extends Exception {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
