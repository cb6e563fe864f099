# shellcheck shell=sh
# /usr/lib/sprout/cpu-id.sh, sourced by /usr/bin/sprout and warm-code-cache (POSIX sh).
# cpu_id prints the CPU as V8 tells CPUs apart (vendor, family, model and feature
# flags; on arm64 its Features): V8 refuses a start-up snapshot made on a CPU with other
# features, so the snapshot's stamp carries this line. Builtins only: /usr/bin/sprout
# runs it at every start.
cpu_id() {
    while read -r key rest; do
        case $key in
        vendor_id) printf '%s ' "$rest" ;;
        cpu) case $rest in family*) printf '%s ' "$rest" ;; esac ;;
        model) case $rest in :*) printf '%s ' "$rest" ;; esac ;;
        flags | Features) printf '%s\n' "$rest" && return ;;
        esac
    done </proc/cpuinfo
}
