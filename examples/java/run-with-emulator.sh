#!/bin/sh
# Starts the emulator (--port 0 --ready-file), writes its CLIENT_SECRET_POST config, exports the client
# secret it names, and runs JwtLifecycle.java against it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${IDAAS_EMULATOR_BIN:?set IDAAS_EMULATOR_BIN}"
: "${JAR:?set JAR (bindings/java/target/idaas-0.1.0.jar)}"
JAVA=${JAVA:-java}
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM
"$IDAAS_EMULATOR_BIN" --port 0 --ready-file "$dir/ready.json" >"$dir/emulator.log" 2>&1 &
pid=$!
i=0
while [ ! -s "$dir/ready.json" ]; do
  i=$((i + 1)); [ $i -lt 600 ] || { echo "emulator not ready" >&2; cat "$dir/emulator.log" >&2; exit 1; }
  sleep 0.1
done
# Pull the config and the secret out of the ready file with the JDK (no jq needed).
cat >"$dir/Ready.java" <<'JAVA'
import java.nio.file.*;
public class Ready {
    public static void main(String[] a) throws Exception {
        String s = Files.readString(Path.of(a[0]));
        int i = s.indexOf("\"CLIENT_SECRET_POST\"", s.indexOf("\"clientConfigs\""));
        int start = s.indexOf('{', i), depth = 0, end = start;
        for (; end < s.length(); end++) {
            char c = s.charAt(end);
            if (c == '{') depth++;
            if (c == '}' && --depth == 0) break;
        }
        Files.writeString(Path.of(a[1]), s.substring(start, end + 1));
        int k = s.indexOf("\"clientSecret\"");
        int q1 = s.indexOf('"', s.indexOf(':', k) + 1), q2 = s.indexOf('"', q1 + 1);
        System.out.print(s.substring(q1 + 1, q2));
    }
}
JAVA
IDAAS_CLIENT_SECRET=$("$JAVA" "$dir/Ready.java" "$dir/ready.json" "$dir/client-config.json")
export IDAAS_CLIENT_SECRET
"$JAVA" -cp "$JAR" "$here/JwtLifecycle.java" "$dir/client-config.json"
