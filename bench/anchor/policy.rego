# Copied unchanged from ../shared/reference/anchor-policy/policy.rego: the anchor's four checks in Rego (bench/baselines.py runs it with regopy).
package mig

# ---- (i) version path -------------------------------------------------------
ivm_ok(s, t) if { s.hpvm_version == "3.5"; t.hpvm_version == "3.5" }
ivm_ok(s, t) if { s.hpvm_version == "4.0"; t.hpvm_version == "4.0" }
ivm_ok(s, t) if { to_number(s.hpvm_version) >= 4.1; to_number(t.hpvm_version) >= 4.1 }

version_ok(s, t) if { s.product == "ivm"; t.product == "ivm"; ivm_ok(s, t) }
version_ok(s, t) if {
	s.product == "vpars"; t.product == "vpars"
	s.hpvm_version in {"6.0", "6.1"}; t.hpvm_version in {"6.0", "6.1"}
}

failing("version", g, s, t) if not version_ok(s, t)

# ---- (ii) every guest DIO function labelled ---------------------------------
failing("dio_label", g, s, t) if { some f in g.dio_functions; f.label == null }

# ---- (iii) per-label capacity on target (free pool functions) --------------
failing("dio_capacity", g, s, t) if {
	some f in g.dio_functions
	f.label != null
	need := count([x | some x in g.dio_functions; x.label == f.label])
	have := count([p | some p in t.dio_pool; p.label == f.label; p.assigned_to == null])
	need > have
}

# ---- (iv) guest must be Off -------------------------------------------------
failing("state", g, s, t) if g.state != "Off"

fails(g, s, t) := sort({c | some c in ["version", "dio_label", "dio_capacity", "state"]; failing(c, g, s, t)})

# per-pair entrypoint: input = {guest, source, target}
failed := fails(input.guest, input.source, input.target)

# whole-fleet entrypoint: input = inventory snapshot
hosts_by_name := {h.name: h | some h in input.hosts}

# NB: a flat partial object with one key per pair is quadratic in rego-cpp 1.5.2
# (3,800 keys ~5 s, 7,600 keys ~22 s) -- kept only for the pitfall measurement.
matrix_flat[key] := fails(g, hosts_by_name[g.host], t) if {
	some g in input.guests
	some t in input.hosts
	t.name != g.host
	key := concat("|", [g.name, t.name])
}

# Nested object {guest: {target: [failed...]}} -- roughly linear; used for timing.
matrix := {g.name: row |
	some g in input.guests
	s := hosts_by_name[g.host]
	row := {t.name: fails(g, s, t) | some t in input.hosts; t.name != g.host}
}
