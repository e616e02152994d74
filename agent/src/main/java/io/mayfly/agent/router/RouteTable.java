package io.mayfly.agent.router;

import io.micrometer.core.instrument.Timer;
import java.util.function.Function;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Which app a Host header names, and that app's route; shared by all event loops. */
final class RouteTable {
  final String domain;
  private final ConcurrentHashMap<String, AppRoute> routes = new ConcurrentHashMap<>();
  private final LongAdder retries = new LongAdder();
  private final Function<String, Timer> timers;

  RouteTable(String domain) {
    this(domain, app -> null);
  }

  RouteTable(String domain, Function<String, Timer> timers) {
    this.timers = timers;
    String normalized = domain.toLowerCase(Locale.ROOT);
    while (normalized.endsWith(".")) {
      normalized = normalized.substring(0, normalized.length() - 1);
    }
    if (normalized.isEmpty()) {
      throw new IllegalArgumentException("router domain is empty: give the domain apps are served under, e.g. localhost");
    }
    this.domain = normalized;
  }

  /** The app named by Host "{app}.{domain}" (any port, any case), lower-cased; null if Host is not under the domain. */
  String appOf(String host) {
    int end = host.length();
    if (end == 0 || host.charAt(0) == '[') {
      return null;
    }
    int colon = host.lastIndexOf(':');
    if (colon >= 0) {
      end = colon;
    }
    if (end > 0 && host.charAt(end - 1) == '.') {
      end--;
    }
    int dot = host.indexOf('.');
    if (dot <= 0 || dot >= end) {
      return null;
    }
    int restLength = end - dot - 1;
    if (restLength != domain.length() || !host.regionMatches(true, dot + 1, domain, 0, restLength)) {
      return null;
    }
    return host.substring(0, dot).toLowerCase(Locale.ROOT);
  }

  AppRoute route(String app) {
    return routes.get(app);
  }

  AppRoute routeOrCreate(String app) {
    return routes.computeIfAbsent(app, a -> new AppRoute(a, timers.apply(a)));
  }

  AppRoute removeRoute(String app) {
    return routes.remove(app);
  }

  List<String> apps() {
    return routes.keySet().stream().sorted().toList();
  }

  void countRetry() {
    retries.increment();
  }

  long retries() {
    return retries.sum();
  }
}
