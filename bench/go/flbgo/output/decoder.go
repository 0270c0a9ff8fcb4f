package output

import "C"

import (
	"encoding/binary"
	"math"
	"reflect"
	"time"
	"unsafe"

	"github.com/ugorji/go/codec"
)

// FLBDecoder is fluent-bit-go's chunk decoder: a fresh ugorji MsgpackHandle
// with the EventTime extension, over a Go copy of the chunk.
type FLBDecoder struct {
	handle *codec.MsgpackHandle
	mpdec  *codec.Decoder
}

// FLBTime is Fluent Bit's EventTime (msgpack ext type 0: BE u32 seconds,
// BE u32 nanoseconds).
type FLBTime struct {
	time.Time
}

// WriteExt implements codec.BytesExt; outputs never encode.
func (f FLBTime) WriteExt(interface{}) []byte {
	panic("unsupported")
}

// ReadExt implements codec.BytesExt.
func (f FLBTime) ReadExt(i interface{}, b []byte) {
	out := i.(*FLBTime)
	sec := binary.BigEndian.Uint32(b)
	usec := binary.BigEndian.Uint32(b[4:])
	out.Time = time.Unix(int64(sec), int64(usec))
}

// NewDecoder copies the chunk with C.GoBytes and wraps it in a decoder, as
// fluent-bit-go does once per flush.
func NewDecoder(data unsafe.Pointer, length int) *FLBDecoder {
	var b []byte

	dec := new(FLBDecoder)
	dec.handle = new(codec.MsgpackHandle)
	dec.handle.SetBytesExt(reflect.TypeOf(FLBTime{}), 0, &FLBTime{})

	b = C.GoBytes(data, C.int(length))
	dec.mpdec = codec.NewDecoderBytes(b, dec.handle)

	return dec
}

// GetRecord decodes the next record into an interface{} (arrays come back as
// []interface{}, maps as map[interface{}]interface{}), like fluent-bit-go's
// output.GetRecord. Both record forms are accepted: Fluent Bit 2.1+
// [[time, {metadata}], {body}] and legacy [time, {body}]. Integer and float
// seconds are turned into FLBTime (fluent-bit-go did this for floats in an
// earlier version; the current one passes uint64 through, which the example
// handles itself). ret != 0 ends the iteration.
func GetRecord(dec *FLBDecoder) (ret int, ts interface{}, rec map[interface{}]interface{}) {
	var check error
	var m interface{}

	check = dec.mpdec.Decode(&m)
	if check != nil {
		return -1, 0, nil
	}

	val := reflect.ValueOf(m)
	if val.Kind() != reflect.Slice || val.Len() != 2 {
		return -2, 0, nil
	}

	var t interface{}
	ts = val.Index(0).Interface()
	if meta, ok := ts.([]interface{}); ok { // Fluent Bit 2.1+ metadata form
		if len(meta) < 2 {
			return -4, 0, nil
		}
		ts = meta[0]
	}
	switch ty := ts.(type) {
	case FLBTime:
		t = ty
	case uint64:
		t = ty
	case int64:
		t = FLBTime{time.Unix(ty, 0)}
	case float64:
		secs, frac := math.Modf(ty)
		t = FLBTime{time.Unix(int64(secs), int64(frac*1e9))}
	default:
		return -5, 0, nil
	}

	mapData, ok := val.Index(1).Interface().(map[interface{}]interface{})
	if !ok {
		return -3, 0, nil
	}

	return 0, t, mapData
}
