package input

import (
	"encoding/binary"
	"reflect"
	"time"

	"github.com/ugorji/go/codec"
)

// FLBEncoder is fluent-bit-go's msgpack encoder: a fresh ugorji MsgpackHandle
// with the EventTime extension registered as ext type 0.
type FLBEncoder struct {
	handle *codec.MsgpackHandle
	mpenc  *codec.Encoder
}

// FLBTime wraps time.Time so that it encodes as Fluent Bit's EventTime:
// msgpack ext type 0, 8 bytes, big-endian u32 seconds then u32 nanoseconds.
type FLBTime struct {
	time.Time
}

// WriteExt implements codec.BytesExt (v is a *FLBTime: the type is a struct).
func (f FLBTime) WriteExt(i interface{}) []byte {
	bs := make([]byte, 8)

	tm := i.(*FLBTime)
	utc := tm.UTC()

	sec := utc.Unix()
	nsec := utc.Nanosecond()

	binary.BigEndian.PutUint32(bs, uint32(sec))
	binary.BigEndian.PutUint32(bs[4:], uint32(nsec))

	return bs
}

// ReadExt implements codec.BytesExt; inputs never decode.
func (f FLBTime) ReadExt(i interface{}, b []byte) {
	panic("unsupported")
}

// NewEncoder builds a new handle every time, as fluent-bit-go does (the
// published gdummy calls it once per collect).
func NewEncoder() *FLBEncoder {
	enc := new(FLBEncoder)
	enc.handle = new(codec.MsgpackHandle)
	enc.handle.WriteExt = true
	enc.handle.SetBytesExt(reflect.TypeOf(FLBTime{}), 0, &FLBTime{})

	return enc
}

// Encode encodes val into a new byte slice.
func (enc *FLBEncoder) Encode(val interface{}) (packed []byte, err error) {
	enc.mpenc = codec.NewEncoderBytes(&packed, enc.handle)
	err = enc.mpenc.Encode(val)
	return
}
