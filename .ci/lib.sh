# shellcheck shell=bash disable=SC2034
# Shared by the quick-start scripts and .ci/run (sourced, not executed).

# Installs the given Debian packages with apt-get, but only those that are not
# installed yet, so on a machine that has them nothing needs root or network.
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "== installing: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Configures build directory $1 from the repository root with the remaining
# arguments, or re-configures it with them if it exists already (so options
# and newly installed dependencies are picked up).
setup_build() {
    local dir=$1
    shift
    if [ -f "$dir/meson-private/coredata.dat" ]; then
        meson setup --reconfigure "$dir" "$@"
    else
        meson setup "$dir" "$@"
    fi
}

# What a build needs, and what the whole test suite needs: GoogleTest, Google
# Benchmark (the benchmarks are built too) and the event loops the host
# adapters run on (Debian 12 package names).
TRELLIS_BUILD_PACKAGES=(meson ninja-build g++ pkg-config)
TRELLIS_TEST_PACKAGES=("${TRELLIS_BUILD_PACKAGES[@]}" python3 libgtest-dev libgmock-dev libbenchmark-dev
    qt6-base-dev libglib2.0-dev libevent-dev)
