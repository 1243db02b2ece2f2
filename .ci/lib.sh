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

# Debian 12 package names.
# What the quick-start demo needs: the build tools, and Qt 6 widgets for the
# Qt example (qt6-base-dev brings the xcb and offscreen platform plugins) with
# a font to draw its labels (a minimal system may have none).
TRELLIS_BUILD_PACKAGES=(meson ninja-build g++ pkg-config qt6-base-dev fonts-dejavu-core)
# What the whole test suite needs on top: GoogleTest, Google Benchmark (the
# benchmarks are built too), the event loops the other host adapters run on,
# GTK 4 for the GTK example, and an X server for the GUI tests (suite 'gui',
# which run both examples under their own Xvfb). xauth is for xvfb-run, which
# the README suggests for running the GTK demo by hand without a display.
# socat is the echo server the network examples' client is tested against;
# curl is the client the HTTP example server is tested with.
TRELLIS_TEST_PACKAGES=("${TRELLIS_BUILD_PACKAGES[@]}" python3 libgtest-dev libgmock-dev libbenchmark-dev
    libglib2.0-dev libevent-dev libgtk-4-dev xvfb xauth socat curl)
