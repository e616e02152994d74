# Sourced by ./mayfly and ./mvnw (POSIX sh): makes JAVA_HOME a JDK 21 or newer. Keeps $JAVA_HOME when it is one;
# otherwise takes the newest JDK among /usr/lib/jvm/*, /usr/java/*, /opt/java/* and the java on PATH (the machine's
# default java may well be older, e.g. 17), so that a fresh clone builds and runs with no setup.
mayfly_java_major() { # the feature version of the java at $1, or 0
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n 1 || true
}

mayfly_find_jdk() {
  best="" best_v=0
  for home in "${JAVA_HOME:-}" /usr/lib/jvm/* /usr/java/* /opt/java/* \
      "$(command -v java >/dev/null 2>&1 && dirname "$(dirname "$(readlink -f "$(command -v java)")")")"; do
    [ -n "$home" ] && [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || continue
    v=$(mayfly_java_major "$home/bin/java")
    v=${v:-0}
    if [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best="$home"; best_v=$v; fi
    # A JAVA_HOME the user chose wins when it is new enough.
    if [ "$home" = "${JAVA_HOME:-}" ] && [ "$v" -ge 21 ]; then best="$home"; break; fi
  done
  [ -n "$best" ] || return 1
  printf '%s\n' "$best"
}

if mayfly_jdk=$(mayfly_find_jdk); then
  JAVA_HOME="$mayfly_jdk"
  export JAVA_HOME
else
  echo "mayfly: needs a JDK 21 or newer (looked at \$JAVA_HOME, /usr/lib/jvm/*, /usr/java/*, /opt/java/* and java on PATH)." >&2
  echo "Install one, e.g.: apt-get install openjdk-21-jdk" >&2
  exit 1
fi
