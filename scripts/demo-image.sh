#!/usr/bin/env bash
# Builds the demo image the example stacks run (swarm-demo/busybox:latest) from the static
# busybox binary: there is no registry to pull images from. Idempotent. Installs busybox-static
# with apt-get (as .ci/run does) when /bin/busybox is missing or not static.
set -euo pipefail
image="${1:-swarm-demo/busybox:latest}"
if docker image inspect "$image" >/dev/null 2>&1; then
  exit 0
fi
busybox="${BUSYBOX:-/bin/busybox}"   # another static busybox: BUSYBOX=PATH
static_busybox() { [ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1; }
if ! static_busybox && command -v apt-get >/dev/null 2>&1; then
  echo "demo-image: installing busybox-static (the image is made from a static $busybox)" >&2
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi
if ! static_busybox; then
  echo "demo-image: a static $busybox is needed: install busybox-static (Debian, Ubuntu) or copy a static busybox there" >&2
  exit 1
fi
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,tmp,www,root}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$image" >/dev/null
echo "demo-image: built $image"
