# Shared by .ci/stages/install-bare-root.sh and scripts/fresh-machine-check.sh:
# mounts into a debootstrap root that are undone however the script ends, and
# the Debian mirror this machine's apt uses.
# shellcheck shell=bash

BARE_ROOT_MOUNTS=()

bare_root_unmount_all() {
  local i
  for ((i = ${#BARE_ROOT_MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${BARE_ROOT_MOUNTS[$i]}" 2> /dev/null || true; done
  BARE_ROOT_MOUNTS=()
}
trap bare_root_unmount_all EXIT INT TERM

# mount_in_root TYPE-or-bind SOURCE TARGET
mount_in_root() {
  mkdir -p "$3"
  if [ "$1" = bind ]; then mount --bind "$2" "$3"; else mount -t "$1" "$2" "$3"; fi
  BARE_ROOT_MOUNTS+=("$3")
}

# The first non-security mirror in apt's sources, else deb.debian.org.
debian_mirror() {
  local mirror
  mirror=$(sed -nE 's/^(URIs:|deb( \[[^]]*\])?) *(https?:[^ ]+).*/\3/p' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2> /dev/null | grep -v security | head -1 || true)
  echo "${mirror:-http://deb.debian.org/debian}"
}
