/**
 * Which broker a failing-over client talks to next (protocol/spec.md §Failing over): the endpoints in turn, one at a
 * time. Moving on is free while some endpoint has not been tried since the last reply; once every one has been tried
 * without an answer, each further move waits a back-off (100 ms doubling to 5 s, minus jitter), so a client whose
 * brokers are all down does not spin. A reply from the current broker ends that: it proved the broker serves.
 * No sockets and no timers here: the connection asks for the next endpoint and waits the delay it is given.
 */
import { Backoff, type BackoffOptions } from "../peer/backoff";

export interface NextBroker {
  endpoint: string;
  /** ms to wait before connecting to it. */
  delay: number;
}

export class EndpointRotation {
  private index = 0;
  /** Endpoints tried since the last reply, the current one included. */
  private tried = 1;
  private readonly backoff: Backoff;

  constructor(
    private readonly endpoints: readonly string[],
    backoff: BackoffOptions = {},
    random: () => number = Math.random,
  ) {
    if (endpoints.length === 0) throw new RangeError("at least one endpoint is needed");
    this.backoff = new Backoff(backoff, random);
  }

  get current(): string {
    return this.endpoints[this.index] ?? "";
  }

  /** The current broker is judged gone: the next one in turn. */
  advance(): NextBroker {
    this.index = (this.index + 1) % this.endpoints.length;
    this.tried++;
    const delay = this.tried <= this.endpoints.length ? 0 : this.backoff.next();
    return { endpoint: this.current, delay };
  }

  /** The current broker answered a request. */
  answered(): void {
    this.tried = 1;
    this.backoff.reset();
  }
}
