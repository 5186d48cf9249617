#!/bin/sh
# Builds the CloudABI test programs and the ptrace stub into OUTDIR.
# Needs gcc with 32-bit support (Debian: gcc-multilib). Usage:
#   programs/build.sh OUTDIR
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
src=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out"
obj="$out/obj"
mkdir -p "$obj"

CC=${CC:-gcc}
# Decision 25 of shared/spec/decisions.md.
CFLAGS="-m32 -static -nostdlib -ffreestanding -fno-pie -no-pie -fno-stack-protector -fcf-protection=none -O2"
WARN="-std=c11 -Wall -Wextra"

# Sets byte 7 of the ELF header (EI_OSABI) to 17, ELFOSABI_CLOUDABI.
mark_cloudabi() {
	printf '\021' | dd of="$1" bs=1 seek=7 count=1 conv=notrunc status=none
}

common=""
for unit in crt0.S syscalls.S rt.c argdata.c; do
	o="$obj/${unit%.*}.o"
	# shellcheck disable=SC2086
	$CC $CFLAGS $WARN -c "$src/$unit" -o "$o"
	common="$common $o"
done

for prog in hello procstat spawn errors loop mode64 tryio; do
	# shellcheck disable=SC2086
	$CC $CFLAGS $WARN -c "$src/$prog.c" -o "$obj/$prog.o"
	# shellcheck disable=SC2086
	$CC $CFLAGS -o "$out/$prog" "$obj/$prog.o" $common
	mark_cloudabi "$out/$prog"
done

# The stub stays a Linux executable, linked away from the programs' range.
# shellcheck disable=SC2086
$CC $CFLAGS -Wl,-Ttext-segment=0x60000000 -o "$out/stub" "$src/stub.S"
