package io.lodestar.client.governance;

/** How a call ended, as reported to breakers and balancers. */
public enum Outcome {
  SUCCESS,
  /** An error that says something about the instance: failed, timed out, refused. */
  FAILURE
}
