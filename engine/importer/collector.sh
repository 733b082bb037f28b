#!/bin/sh
# migcheck collector: captures on one VSP what `migcheck import` reads.
#
# Run it as root on each VSP (HP-UX 11i v3 has /usr/bin/sh; no Python is needed):
#     sh migcheck-collector.sh [DIR [VSP]]
# It writes DIR/VSP/ (DIR defaults to ./migcheck-capture, VSP to the output of uname -n):
#     hpvmstatus.txt            hpvmstatus
#     hpvmstatus-s.txt          hpvmstatus -s
#     hpvmnet.txt               hpvmnet
#     machinfo.txt              machinfo
#     swlist.txt                swlist -l bundle (the Integrity VM / vPars bundle lines)
#     hpvminfo.txt              hpvminfo
#     guests/GUEST.txt          hpvmstatus -P GUEST       (every guest hpvmstatus lists)
#     guests/GUEST.d.txt        hpvmstatus -P GUEST -d
#     vswitches/VSWITCH.txt     hpvmnet -S VSWITCH        (every vswitch hpvmnet lists)
#     dio.yaml                  a template with the output of hpvmhwmgmt -p dio -l, to complete
#                               by hand (an existing dio.yaml is kept)
# Each file holds its command's standard output only. Errors go to this script's standard
# error, and it exits 1 if a command failed. Copy DIR/VSP from every VSP into one folder,
# complete each dio.yaml, and run: migcheck import FOLDER --output estate.yaml

PATH=$PATH:/opt/hpvm/bin:/usr/sbin:/usr/bin:/bin
export PATH
LC_ALL=C
export LC_ALL

dir=${1:-./migcheck-capture}
vsp=${2:-$(uname -n)}
out=$dir/$vsp
status=0

say() {
    printf 'migcheck-collector: %s\n' "$*" >&2
}

# capture FILE COMMAND [ARG...]: the command's standard output into FILE (removed if it fails)
capture() {
    file=$1
    shift
    if "$@" > "$file" < /dev/null; then
        return 0
    fi
    say "'$*' failed; $file not written"
    rm -f "$file"
    status=1
    return 1
}

# names FILE: the first column of the rows under the first ==== ruler of FILE
names() {
    awk 'ruler && NF == 0 { exit } ruler { print $1 } /^=+( +=+)* *$/ { ruler = 1 }' "$1"
}

# safe NAME: true when NAME can be a file name (hpvmcreate allows no other characters)
safe() {
    case $1 in
        '' | .* | *[!A-Za-z0-9._-]*) return 1 ;;
    esac
    return 0
}

dio_template() {
    raw=$out/.dio.$$
    hpvmhwmgmt -p dio -l > "$raw" < /dev/null
    code=$?
    {
        printf '%s\n' "# DIO functions of VSP $vsp, read by migcheck import. Complete the list below"
        printf '%s\n' "# from the output of 'hpvmhwmgmt -p dio -l' copied underneath, one entry per function:"
        printf '%s\n' '#   - {hwpath: "0/0/0/4/0/0/0", type: FLA, pool: true, label: lan_pub, assigned_to: web01}'
        printf '%s\n' '# type: FLA or DLA; pool: true when the function is in the DIO pool (hpvmhwmgmt -p dio -a);'
        printf '%s\n' '# label: as set with hpvmhwmgmt -L (leave it out when unlabeled); assigned_to: the guest'
        printf '%s\n' '# using it (leave it out when free). Write "dio_functions: []" when the VSP has none.'
        printf '%s\n' '#'
        if [ "$code" -eq 0 ] && [ -s "$raw" ]; then
            printf '%s\n' '# hpvmhwmgmt -p dio -l:'
            sed 's/^/#   /' "$raw"
            printf '%s\n' 'dio_functions:'
        elif [ "$code" -eq 0 ] || [ "$code" -eq 127 ]; then
            printf '%s\n' "# hpvmhwmgmt -p dio -l printed nothing (exit status $code): no DIO functions."
            printf '%s\n' 'dio_functions: []'
        else
            printf '%s\n' "# hpvmhwmgmt -p dio -l failed (exit status $code): list the functions by hand."
            printf '%s\n' 'dio_functions:'
        fi
    } > "$out/dio.yaml"
    if [ "$code" -ne 0 ] && [ "$code" -ne 127 ]; then
        say "'hpvmhwmgmt -p dio -l' failed (exit status $code); complete $out/dio.yaml by hand"
        status=1
    fi
    rm -f "$raw"
}

if ! mkdir -p "$out/guests" "$out/vswitches"; then
    say "cannot create $out"
    exit 2
fi

if ! capture "$out/hpvmstatus.txt" hpvmstatus; then
    say "is this a VSP? hpvmstatus is needed to list the guests"
    exit 1
fi
capture "$out/hpvmstatus-s.txt" hpvmstatus -s
capture "$out/hpvmnet.txt" hpvmnet
capture "$out/machinfo.txt" machinfo
capture "$out/hpvminfo.txt" hpvminfo

bundles=$out/.swlist.$$
if capture "$bundles" swlist -l bundle; then
    if ! grep -i -e 'integrity vm' -e 'integrity virtual machine' -e hpvm -e vpar "$bundles" > "$out/swlist.txt"; then
        say "no Integrity VM bundle in the output of 'swlist -l bundle'"
        status=1
    fi
    rm -f "$bundles"
fi

guests=0
list=$out/.names.$$
names "$out/hpvmstatus.txt" > "$list"
while IFS= read -r guest; do
    if ! safe "$guest"; then
        say "guest name '$guest' cannot be a file name; capture it by hand"
        status=1
        continue
    fi
    capture "$out/guests/$guest.txt" hpvmstatus -P "$guest"
    capture "$out/guests/$guest.d.txt" hpvmstatus -P "$guest" -d
    guests=$((guests + 1))
done < "$list"

vswitches=0
if [ -f "$out/hpvmnet.txt" ]; then
    names "$out/hpvmnet.txt" > "$list"
    while IFS= read -r vswitch; do
        if ! safe "$vswitch"; then
            say "vswitch name '$vswitch' cannot be a file name; capture it by hand"
            status=1
            continue
        fi
        capture "$out/vswitches/$vswitch.txt" hpvmnet -S "$vswitch"
        vswitches=$((vswitches + 1))
    done < "$list"
fi
rm -f "$list"

if [ -f "$out/dio.yaml" ]; then
    say "$out/dio.yaml exists and is kept; remove it to write a new template"
else
    dio_template
fi

say "captured $guests guest(s) and $vswitches vswitch(es) into $out"
exit "$status"
