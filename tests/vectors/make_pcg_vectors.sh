#!/bin/sh
# make_pcg_vectors.sh — regenerates tests/vectors/pcg_vectors.h (committed)
# by compiling and running pcg_ref.cpp against the reference C++ PCG library
# (Debian: apt-get install libpcg-cpp-dev, which installs
# /usr/include/pcg_random.hpp). Run from anywhere; CXX overrides the compiler.
# With --check it only compares against the committed file (a ctest).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cxx=${CXX:-g++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ ! -f /usr/include/pcg_random.hpp ]; then
  echo "make_pcg_vectors.sh: /usr/include/pcg_random.hpp not found" \
       "(install libpcg-cpp-dev)" >&2
  exit 1
fi

"$cxx" -std=c++11 -O1 -Wall -Wextra -I/usr/include \
  -o "$tmp/pcg_ref" "$here/pcg_ref.cpp"
"$tmp/pcg_ref" > "$tmp/pcg_vectors.h"
if [ "${1:-}" = "--check" ]; then
  # the committed vectors must equal what the reference library prints now
  cmp "$tmp/pcg_vectors.h" "$here/pcg_vectors.h" ||
    { echo "make_pcg_vectors.sh: committed vectors differ from libpcg-cpp-dev output" >&2; exit 1; }
  echo "pcg vectors match libpcg-cpp-dev"
  exit 0
fi
mv "$tmp/pcg_vectors.h" "$here/pcg_vectors.h"
echo "wrote $here/pcg_vectors.h"
