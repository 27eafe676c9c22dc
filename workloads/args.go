package workloads

import "github.com/jackc/pgx/v5/pgtype"

// Int8Arg is an INT8 statement argument that pgx reads from *p when it
// sends the statement. Its boxed value is a pointer, so a worker builds
// its argument slices once and sends its current values without
// allocating (a boxed int64 allocates, and so does a *int64, which pgx
// dereferences through reflect).
type Int8Arg struct{ p *int64 }

// Int8 returns the argument reading *p.
func Int8(p *int64) Int8Arg { return Int8Arg{p} }

// Int64Value implements pgtype.Int64Valuer.
func (a Int8Arg) Int64Value() (pgtype.Int8, error) { return pgtype.Int8{Int64: *a.p, Valid: true}, nil }

// UUIDArg is a UUID statement argument that pgx reads from *p, as
// Int8Arg.
type UUIDArg struct{ p *[16]byte }

// UUID returns the argument reading *p.
func UUID(p *[16]byte) UUIDArg { return UUIDArg{p} }

// UUIDValue implements pgtype.UUIDValuer.
func (a UUIDArg) UUIDValue() (pgtype.UUID, error) { return pgtype.UUID{Bytes: *a.p, Valid: true}, nil }
