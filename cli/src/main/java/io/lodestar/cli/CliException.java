package io.lodestar.cli;

/** A failure reported to the user as one line on stderr, with the given exit code. */
class CliException extends RuntimeException {
  static final int SERVER_ERROR = 1;
  static final int USAGE = 2;
  static final int UNREACHABLE = 3;

  private final int exitCode;

  CliException(int exitCode, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }

  /** The server answered with an error status. */
  static final class ServerError extends CliException {
    final int status;
    final String code;
    final String field;

    ServerError(int status, String code, String message, String field) {
      super(SERVER_ERROR, format(status, code, message, field));
      this.status = status;
      this.code = code;
      this.field = field;
    }

    private static String format(int status, String code, String message, String field) {
      StringBuilder b = new StringBuilder();
      if (message != null && !message.isBlank()) {
        b.append(message.strip().replaceAll("\\s*\\R\\s*", " "));
      } else if (code != null) {
        b.append(code.replace('_', ' '));
      } else {
        b.append("the server answered HTTP ").append(status);
      }
      if (field != null && !field.isBlank()) {
        b.append(" (field: ").append(field).append(')');
      }
      return b.toString();
    }
  }

  /** The server could not be reached, or did not answer in time. */
  static final class Unreachable extends CliException {
    Unreachable(ServerAddress server, String why) {
      super(UNREACHABLE, "cannot reach Lodestar at " + server + ": " + why);
    }
  }
}
