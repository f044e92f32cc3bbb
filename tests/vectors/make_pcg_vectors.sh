#!/bin/sh
# make_pcg_vectors.sh — regenerates tests/vectors/pcg_vectors.h (committed)
# by compiling and running pcg_ref.cpp against the reference C++ PCG library
# (Debian: apt-get install libpcg-cpp-dev, which installs
# /usr/include/pcg_random.hpp). Run from anywhere; CXX overrides the compiler.
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
mv "$tmp/pcg_vectors.h" "$here/pcg_vectors.h"
echo "wrote $here/pcg_vectors.h"
