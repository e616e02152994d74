package io.mayfly.agent.router;

import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The backends one app is served by right now, and the choice of one of them per request. */
final class AppRoute {
  final String app;
  private volatile List<Backend> backends = List.of();
  private volatile boolean removed;
  private final AtomicInteger nextTie = new AtomicInteger();
  /** Set for an app that scales to zero: requests that find no backend are held while it boots. */
  volatile Waker waker;
  volatile long holdTimeoutNanos;
  private final AtomicInteger held = new AtomicInteger();

  /** Every proxied request of this app, timed from its head to its last response byte (Micrometer; null: not measured). */
  final Timer requests;

  AppRoute(String app, Timer requests) {
    this.app = app;
    this.requests = requests;
  }

  List<Backend> backends() {
    return backends;
  }

  List<Backend> replace(List<Backend> next) {
    List<Backend> previous = backends;
    backends = next;
    return previous;
  }

  List<Backend> remove() {
    removed = true;
    return replace(List.of());
  }

  /** Counts one more held request, unless {@code max} are held already. */
  boolean tryHold(int max) {
    while (true) {
      int now = held.get();
      if (now >= max) return false;
      if (held.compareAndSet(now, now + 1)) return true;
    }
  }

  void releaseHold() {
    held.decrementAndGet();
  }

  boolean isRemoved() {
    return removed;
  }

  /**
   * Picks the backend with the fewest outstanding requests (ties in turn) and counts the request
   * on it; null when the app has no backend. The list is read again after counting so that a
   * caller who switched and then waits for the old backends to drain either sees this request in
   * their count or this request sees the new list: no request reaches a backend after its drain.
   */
  Backend acquire() {
    while (true) {
      List<Backend> current = backends;
      int size = current.size();
      if (size == 0) {
        return null;
      }
      Backend chosen = current.get(0);
      if (size > 1) {
        int start = Math.floorMod(nextTie.getAndIncrement(), size);
        int fewest = Integer.MAX_VALUE;
        for (int i = 0; i < size; i++) {
          Backend candidate = current.get((start + i) % size);
          int load = candidate.inFlight();
          if (load < fewest) {
            fewest = load;
            chosen = candidate;
          }
        }
      }
      chosen.acquire();
      if (backends == current) {
        return chosen;
      }
      chosen.release();
    }
  }
}
