#!/usr/bin/env bash
# Builds the demo image the example stacks run (swarm-demo/busybox:latest) from the static
# busybox binary: there is no registry to pull images from. Idempotent; needs busybox-static.
set -euo pipefail
image="${1:-swarm-demo/busybox:latest}"
if docker image inspect "$image" >/dev/null 2>&1; then
  exit 0
fi
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "demo-image: a static $busybox is needed: apt-get install -y busybox-static" >&2
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
