#!/bin/sh
# migcheck collector: captures on one VSP what `migcheck import` reads.
#
# Run it as root on each VSP (HP-UX 11i v3 has /usr/bin/sh; no Python is needed):
#     sh migcheck-collector.sh [DIR [VSP]]
# It writes DIR/VSP/ (DIR defaults to ./migcheck-capture, VSP to the output of uname -n):
#     hpvmstatus.txt                  hpvmstatus
#     hpvmstatus-s.txt                hpvmstatus -s
#     hpvmnet.txt                     hpvmnet
#     machinfo.txt                    machinfo
#     swlist.txt                      swlist -l bundle (the Integrity VM / vPars bundle lines)
#     hpvminfo.txt                    hpvminfo
#     hpvmdevmgmt-gdev.txt            hpvmdevmgmt -l gdev (guest devices; SHARE=YES ones are shared)
#     hpvmdevmgmt-rdev.txt            hpvmdevmgmt -l rdev (devices restricted from guests)
#     mount-p.txt                     mount -p (the NFS mounts that may hold backing files)
#     guests/GUEST/hpvmstatus-P.txt   hpvmstatus -P GUEST       (every guest hpvmstatus lists)
#     guests/GUEST/hpvmstatus-P-d.txt hpvmstatus -P GUEST -d
#     vswitches/VSWITCH.txt           hpvmnet -S VSWITCH        (every vswitch hpvmnet lists)
#     dio.yaml                        a template with the output of hpvmhwmgmt -p dio -l, to complete
#                                     by hand (the dio.yaml of an earlier run is kept)
# One folder per guest: no two commands or guests share a file. Each file holds its command's
# standard output only. Errors go to this script's standard error, and it exits 1 if a command
# failed, 2 if it wrote nothing. Copy DIR/VSP from every VSP into one folder, complete each
# dio.yaml, and run: migcheck import FOLDER --output estate.yaml
#
# Safe as root in a folder others can write to (/var/tmp): DIR is created here (mode 700), or
# must be a folder (not a link) owned by root or by the user running this and writable by no
# one else. Everything is written into a new private folder inside DIR, which replaces DIR/VSP
# only at the end, so no capture is written through a link or swapped while it is written.

# PATH: root's own, but only its absolute folders (an empty entry, `.` or a relative one would look commands up
# in the folder the script is started from, which another user may write), then HP's and the system's
set -f
safe_path=
old_ifs=$IFS
IFS=:
for entry in $PATH; do
  case $entry in
    /*) safe_path=$safe_path$entry: ;;
  esac
done
IFS=$old_ifs
set +f
PATH=${safe_path}/opt/hpvm/bin:/usr/sbin:/usr/bin:/bin
export PATH
unset safe_path old_ifs entry
LC_ALL=C
export LC_ALL
umask 077
set -C

dir=${1:-./migcheck-capture}
vsp=${2:-$(uname -n)}
status=0
full=no  # whether the last failed capture found the disk full (`capture`)

# shown TEXT: TEXT for a terminal, every byte that is not printable ASCII as `?`
shown() {
    printf '%s' "$1" | tr -c ' -~' '?'
}

say() {
    printf 'migcheck-collector: %s\n' "$1" >&2
}

# safe NAME: true when NAME can be a file name (hpvmcreate allows no other characters)
safe() {
    case $1 in
        '' | .* | *[!A-Za-z0-9._-]*) return 1 ;;
    esac
    return 0
}

# trusted PATH: PATH is a folder, not a link, owned by root or by this user, writable by no one else;
# its inode number in $inode (which folder it is: `cd` may land elsewhere if PATH is swapped meanwhile)
trusted() {
    [ -d "$1" ] && [ ! -L "$1" ] || return 1
    # ls -ldni is the POSIX way to read a folder's inode, mode and owner; its words are split on purpose
    # shellcheck disable=SC2012,SC2046
    set -- $(ls -ldni "$1")
    inode=$1
    case $2 in
        ?????w???* | ????????w*) return 1 ;;
    esac
    [ "$4" = 0 ] || [ "$4" = "$(id -u)" ]
}

# capture FILE COMMAND [ARG...]: the command's standard output into the new FILE (removed if it fails);
# a FILE already there (a name listed twice) is left as it is and the command not run
capture() {
    file=$1
    shift
    if [ -e "$file" ] || [ -L "$file" ]; then
        say "${file#"$work"/} is written already (a name listed twice?); '$(shown "$*")' not run"
        status=1
        return 1
    fi
    if "$@" > "$file" 2> "$work/.stderr" < /dev/null; then
        relay "$work/.stderr"
        return 0
    fi
    relay "$work/.stderr"
    say "'$(shown "$*")' failed; ${file#"$work"/} not written"
    # said in the capture too: import tells a command that failed from a file an older collector did not write
    printf '%s\n' "${file#"$work"/}" 2> /dev/null >> "$work/failed.txt"
    full=no  # (asked before the part written is removed: removing it makes room again)
    writable || full=yes
    rm -f "$file"
    status=1
    return 1
}

# relay FILE: a command's standard error, kept in FILE, on this script's with every byte that is not printable ASCII
# shown as `?` (no escape sequence a command prints reaches root's terminal); FILE removed
relay() {
    if [ -s "$1" ]; then
        tr -c ' -~\n' '?' < "$1" >&2
    fi
    rm -f "$1"
}

# writable: whether a file can still be written in the work folder (a full disk says no)
writable() {
    printf 'x\n' > "$work/.written" && rm -f "$work/.written"
}

# names FILE: the first column of the rows under the first ==== ruler of FILE
names() {
    awk 'ruler && NF == 0 { exit } ruler { print $1 } /^=+( +=+)* *$/ { ruler = 1 }' "$1"
}

# make_work: a new private folder inside DIR (mktemp -d where it makes one; HP-UX's mktemp does not)
make_work() {
    work=$(mktemp -d "$dir/.migcheck-work.XXXXXX" 2> /dev/null) && [ -d "$work" ] && [ ! -L "$work" ] && return 0
    n=0
    while [ "$n" -lt 100 ]; do
        work=$dir/.migcheck-work.$$.$n
        mkdir "$work" 2> /dev/null && return 0
        n=$((n + 1))
    done
    return 1
}

# dio_template [FILE]: the template of dio.yaml (or FILE, in the work folder) with the output of
# `hpvmhwmgmt -p dio -l` copied in its comments
dio_template() {
    template=${1:-dio.yaml}
    raw=$work/.dio-raw
    hpvmhwmgmt -p dio -l > "$raw" 2> "$work/.stderr" < /dev/null
    code=$?
    relay "$work/.stderr"
    {
        printf '%s\n' "# DIO functions of VSP $(shown "$vsp"), read by migcheck import. Complete the list below"
        printf '%s\n' "# from the output of 'hpvmhwmgmt -p dio -l' copied underneath, one entry per function:"
        printf '%s\n' '#   - {hwpath: "0/0/0/4/0/0/0", type: FLA, pool: true, label: lan_pub, assigned_to: web01}'
        printf '%s\n' '# type: FLA or DLA; pool: true when the function is in the DIO pool (hpvmhwmgmt -p dio -a);'
        printf '%s\n' '# label: as set with hpvmhwmgmt -L (leave it out when unlabeled); assigned_to: the guest'
        printf '%s\n' '# using it (leave it out when free). Write "dio_functions: []" when the VSP has none.'
        printf '%s\n' '#'
        if [ "$code" -eq 0 ] && [ -s "$raw" ]; then
            printf '%s\n' '# hpvmhwmgmt -p dio -l:'
            # every byte that is not printable ASCII shown as `?`: a line break YAML knows (CR, NEL, LS, PS) in the
            # output must not end the comment, and a control character would make the template unreadable
            tr -c ' -~\n' '?' < "$raw" | awk '{ print "#   " $0 }'
            printf '%s\n' 'dio_functions:'
        elif [ "$code" -eq 0 ] || [ "$code" -eq 127 ]; then
            printf '%s\n' "# hpvmhwmgmt -p dio -l printed nothing (exit status $code): no DIO functions."
            printf '%s\n' 'dio_functions: []'
        else
            printf '%s\n' "# hpvmhwmgmt -p dio -l failed (exit status $code): list the functions by hand."
            printf '%s\n' 'dio_functions:'
        fi
    } > "$work/$template" || {
        say "cannot write $template (is the disk full?)"
        rm -f "$work/$template"
        status=1
    }
    if [ "$code" -ne 0 ] && [ "$code" -ne 127 ]; then
        say "'hpvmhwmgmt -p dio -l' failed (exit status $code); complete dio.yaml by hand"
        status=1
    fi
    rm -f "$raw"
}

# dio_changed: the kept dio.yaml's copy of what `hpvmhwmgmt -p dio -l` printed when its template was written (its
# comments) against what it prints now, compared as the template writes it (bytes not printable ASCII as `?`) and
# without carriage returns or blanks at line ends (an editor's); when they differ, a new template goes to
# dio-changed.txt, which import refuses until it is completed and renamed to dio.yaml (a function added, moved or
# reassigned since would read as it was)
dio_changed() {
    hpvmhwmgmt -p dio -l > "$work/.dio-raw" 2> "$work/.stderr" < /dev/null
    code=$?
    relay "$work/.stderr"
    tr -d '\r' < "$work/dio.yaml" > "$work/.dio-kept"
    if [ "$code" -ne 0 ] && [ "$code" -ne 127 ]; then
        say "'hpvmhwmgmt -p dio -l' failed (exit status $code); the kept dio.yaml is not checked against it"
        status=1
    elif grep -q -e '^# hpvmhwmgmt -p dio -l:' -e '^# hpvmhwmgmt -p dio -l printed nothing' "$work/.dio-kept"; then
        tr -c ' -~\n' '?' < "$work/.dio-raw" | awk '{ sub(/ *$/, ""); print }' > "$work/.dio-now"
        awk 'f && /^#/ { if (!sub(/^#   /, "")) sub(/^#/, ""); sub(/ *$/, ""); print; next } f { exit }
             /^# hpvmhwmgmt -p dio -l: *$/ { f = 1 }' "$work/.dio-kept" | tr -c ' -~\n' '?' > "$work/.dio-then"
        if ! cmp -s "$work/.dio-now" "$work/.dio-then"; then
            rm -f "$work/.dio-raw"
            dio_template dio-changed.txt
            say "'hpvmhwmgmt -p dio -l' prints otherwise than when dio.yaml was written: complete dio-changed.txt (a new template) and rename it to dio.yaml (import refuses the VSP's DIO functions until then)"
            status=1
        fi
        rm -f "$work/.dio-now" "$work/.dio-then"
    else
        say "dio.yaml holds no copy of the output of 'hpvmhwmgmt -p dio -l' to compare with: check it by hand"
    fi
    rm -f "$work/.dio-raw" "$work/.dio-kept"
}

guests() {
    count=0
    list=$work/.names
    names "$work/hpvmstatus.txt" > "$list"
    while IFS= read -r guest; do
        if ! safe "$guest"; then
            say "guest name '$(shown "$guest")' cannot be a file name; capture it by hand"
            status=1
            continue
        fi
        if [ -e "$work/guests/$guest" ] || [ -L "$work/guests/$guest" ]; then
            say "guests/$guest is written already (a name listed twice?); its second row not captured"
            status=1
            continue
        fi
        mkdir "$work/guests/$guest" || { status=1; continue; }
        whole=yes
        capture "$work/guests/$guest/hpvmstatus-P.txt" hpvmstatus -P "$guest" || whole=no
        capture "$work/guests/$guest/hpvmstatus-P-d.txt" hpvmstatus -P "$guest" -d || whole=no
        [ "$whole" = no ] || count=$((count + 1))
    done < "$list"
    rm -f "$list"
    guest_count=$count
}

vswitches() {
    count=0
    list=$work/.names
    if [ -f "$work/hpvmnet.txt" ]; then
        names "$work/hpvmnet.txt" > "$list"
        while IFS= read -r vswitch; do
            if ! safe "$vswitch"; then
                say "vswitch name '$(shown "$vswitch")' cannot be a file name; capture it by hand"
                status=1
                continue
            fi
            capture "$work/vswitches/$vswitch.txt" hpvmnet -S "$vswitch" && count=$((count + 1))
        done < "$list"
        rm -f "$list"
    fi
    vswitch_count=$count
}

if ! safe "$vsp"; then
    say "VSP name '$(shown "$vsp")' cannot be a folder name; give one as the second argument"
    exit 2
fi
if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
    mkdir "$dir" || { say "cannot create $(shown "$dir")"; exit 2; }
fi
# checked, then entered and checked again: from here every path is relative to the folder itself, so a
# parent folder renamed under us cannot send a write elsewhere
# (the same folder: its inode number and its physical path before and after, or DIR was swapped for a link in
# between; the path, as two filesystems may each have a folder of that inode number)
case $dir in
    */) [ "$dir" = / ] || dir=${dir%"${dir##*[!/]}"} ;;  # (its trailing slashes off)
esac
case $dir in
    / | . | .. | */. | */..) where=$dir base= ;;  # (a folder named by its own path: found where it is)
    */*) where=${dir%/*} base=/${dir##*/} ;;
    *) where=. base=/$dir ;;
esac
entered=no
if trusted "$dir" && checked=$inode && expected=$(cd -P -- "${where:-/}" && pwd -P) &&
        cd -P -- "$dir" && trusted . && [ "$inode" = "$checked" ]; then
    if [ -z "$base" ] || [ "$(pwd -P)" = "${expected%/}$base" ]; then
        entered=yes
    fi
fi
if [ "$entered" = no ]; then
    say "$(shown "$dir") is not a folder owned by root or by you and writable by no one else (or it is a link): refused"
    exit 2
fi
shown_dir=$dir
dir=.
final=./$vsp
if { [ -e "$final" ] || [ -L "$final" ]; } && ! trusted "$final"; then
    say "$(shown "$shown_dir/$vsp") exists and is not a folder owned by root or by you and writable by no one else: refused"
    exit 2
fi
if ! make_work; then
    say "cannot create a private folder in $(shown "$shown_dir")"
    exit 2
fi
# interrupted: the new capture removed, the one before it (DIR/VSP) as it was, and the run ends (exit 2)
# shellcheck disable=SC2317  # (called by the trap)
interrupted() {
    trap '' HUP INT TERM
    rm -rf "$work"
    if [ -d "$work.old" ]; then
        if [ -e "$final" ] || [ -L "$final" ]; then rm -rf "$work.old"; else mv "$work.old" "$final"; fi
    fi
    say "interrupted; $(shown "$shown_dir/$vsp") is as it was"
    exit 2
}
trap interrupted HUP INT TERM
mkdir "$work/guests" "$work/vswitches" || { rm -rf "$work"; exit 2; }

if ! capture "$work/hpvmstatus.txt" hpvmstatus; then
    if [ "$full" = no ]; then
        say "is this a VSP? hpvmstatus is needed to list the guests; nothing written"
    else
        say "cannot write in $(shown "$shown_dir") (is the disk full?); $(shown "$shown_dir/$vsp") is as it was"
    fi
    rm -rf "$work"
    exit 2
fi
capture "$work/hpvmstatus-s.txt" hpvmstatus -s
capture "$work/hpvmnet.txt" hpvmnet
capture "$work/machinfo.txt" machinfo
capture "$work/hpvminfo.txt" hpvminfo
capture "$work/hpvmdevmgmt-gdev.txt" hpvmdevmgmt -l gdev
capture "$work/hpvmdevmgmt-rdev.txt" hpvmdevmgmt -l rdev
capture "$work/mount-p.txt" mount -p

if capture "$work/.swlist" swlist -l bundle; then
    grep -i -e 'integrity vm' -e 'integrity virtual machine' -e hpvm -e vpar "$work/.swlist" > "$work/swlist.txt"
    code=$?
    if [ "$code" -eq 1 ]; then
        say "no Integrity VM bundle in the output of 'swlist -l bundle'"
        status=1
    elif [ "$code" -ne 0 ]; then  # (2: grep could not read or write: a full disk)
        say "cannot write swlist.txt (is the disk full?)"
        rm -f "$work/swlist.txt"
        status=1
    fi
    rm -f "$work/.swlist"
fi

guests
vswitches

if [ -f "$final/dio.yaml" ] && [ ! -L "$final/dio.yaml" ]; then
    say "$(shown "$shown_dir/$vsp")/dio.yaml exists and is kept; remove it to write a new template"
    if ! cp "$final/dio.yaml" "$work/dio.yaml"; then  # (the completed one is not replaced by a part of it)
        say "cannot copy $(shown "$shown_dir/$vsp")/dio.yaml (is the disk full?); $(shown "$shown_dir/$vsp") is as it was"
        rm -rf "$work"
        exit 2
    fi
    dio_changed
else
    dio_template
fi

# a capture written on a disk that filled up meanwhile may be cut short where a command did not say so
if ! writable; then
    say "cannot write in $(shown "$shown_dir") (is the disk full?); $(shown "$shown_dir/$vsp") is as it was"
    rm -rf "$work"
    exit 2
fi
trap '' HUP INT TERM  # the swap, two renames, is not interrupted between them
if [ -d "$final" ]; then
    mv "$final" "$work.old" || { say "cannot replace $(shown "$shown_dir/$vsp")"; rm -rf "$work"; exit 2; }
fi
if ! mv "$work" "$final"; then
    say "cannot rename the capture to $(shown "$shown_dir/$vsp"); it is as it was"
    if [ -d "$work.old" ]; then mv "$work.old" "$final"; fi
    rm -rf "$work"
    exit 2
fi
rm -rf "$work.old"
say "captured $guest_count guest(s) and $vswitch_count vswitch(es) into $(shown "$shown_dir/$vsp")"
exit "$status"
