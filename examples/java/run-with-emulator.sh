#!/bin/sh
# Starts the emulator (--port 0 --ready-file), writes its CLIENT_SECRET_POST config, exports the client
# secret it names and CLOUD_IDAAS_CONFIG_PATH (the file Idaas.init() reads), and runs
# JwtLifecycle.java against it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${IDAAS_EMULATOR_BIN:?set IDAAS_EMULATOR_BIN}"
: "${CLASSPATH:?set CLASSPATH (bindings/java/target/idaas-0.1.0.jar and the jars of target/runtime-classpath.txt)}"
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
# Pull the config and the secret out of the ready file with Gson (on the binding's class path).
cat >"$dir/Ready.java" <<'JAVA'
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;

public class Ready {
    public static void main(String[] a) throws Exception {
        JsonObject ready = JsonParser.parseString(Files.readString(Path.of(a[0]))).getAsJsonObject();
        JsonObject config = ready.getAsJsonObject("clientConfigs").getAsJsonObject("CLIENT_SECRET_POST");
        Files.writeString(Path.of(a[1]), config.toString());
        System.out.print(ready.get("clientSecret").getAsString());
    }
}
JAVA
IDAAS_CLIENT_SECRET=$("$JAVA" -cp "$CLASSPATH" "$dir/Ready.java" "$dir/ready.json" "$dir/client-config.json")
export IDAAS_CLIENT_SECRET
CLOUD_IDAAS_CONFIG_PATH="$dir/client-config.json"
export CLOUD_IDAAS_CONFIG_PATH
"$JAVA" -cp "$CLASSPATH" "$here/JwtLifecycle.java"
