#!/bin/sh
# install_embed.sh BUILD_DIR — installs the library into a temporary prefix
# and builds and runs a small program against it with pkg-config: the
# public API is enough to embed doppel (a registered ctest).
set -eu
build="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib/x86_64-linux-gnu/pkgconfig"
cat > "$tmp/embed.c" <<'C'
#include <doppel/doppel.h>
#include <stdio.h>
#include <string.h>
int main(void) {
  unsigned char bytes[32] = {0};
  doppel_key *key = NULL;
  doppel_pseudonymizer *p = NULL;
  doppel_diag d;
  doppel_diag_clear(&d);
  if (doppel_key_from_bytes(&key, bytes, 32) != DOPPEL_OK) return 1;
  if (doppel_pseudonymizer_new(&p, key, NULL, DOPPEL_DIALECT_GENERIC, &d) != DOPPEL_OK) return 1;
  const char *rec = "{\"user_id\":\"jane@example.com\",\"event\":\"x\",\"n\":0.10}";
  const char *out; size_t n;
  if (doppel_pseudonymizer_json(p, rec, strlen(rec), &out, &n, &d) != DOPPEL_OK) return 1;
  printf("%s %.*s\n", doppel_version(), (int)n, out);
  int ok = memmem(out, n, "@email.invalid", 14) && memmem(out, n, "\"n\":0.10}", 9) && !memmem(out, n, "jane", 4);
  doppel_pseudonymizer_free(p);
  doppel_key_free(key);
  return ok ? 0 : 1;
}
C
cc -std=c11 -D_GNU_SOURCE -o "$tmp/embed" "$tmp/embed.c" $(pkg-config --cflags --libs --static doppel)
"$tmp/embed"
echo "install_embed: ok"
