"""The IDX reader: round trips on small generated files and clear errors for broken ones."""

import gzip
import struct

import numpy as np
import pytest

from shenjing.data import IDXError, read_idx, read_idx_header, write_idx

CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def make_idx(array, code=None, ndim=None, dims=None, extra=b"", cut=0, magic_prefix=b"\x00\x00"):
    """A tiny, independent IDX writer (big-endian), with knobs to break the file."""
    a = np.asarray(array)
    code = CODES[a.dtype.type] if code is None else code
    dims = a.shape if dims is None else dims
    ndim = len(dims) if ndim is None else ndim
    head = magic_prefix + bytes([code, ndim]) + b"".join(struct.pack(">I", d) for d in dims)
    data = head + a.astype(a.dtype.newbyteorder(">")).tobytes() + extra
    return data[: len(data) - cut] if cut else data


def put(tmp_path, name, data, gz=False):
    p = tmp_path / name
    p.write_bytes(gzip.compress(data) if gz else data)
    return p


@pytest.mark.parametrize("dtype", list(CODES))
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)])
@pytest.mark.parametrize("gz", [False, True])
def test_round_trip(tmp_path, dtype, shape, gz, rng):
    a = (rng.standard_normal(shape) * 50).astype(dtype)
    p = put(tmp_path, "x-idx.gz" if gz else "x-idx", make_idx(a), gz)
    b = read_idx(p)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative and b.shape == shape
    np.testing.assert_array_equal(a, b)
    b[...] = 0  # writable
    assert read_idx_header(p) == (np.dtype(dtype), shape)


def test_gzip_detected_by_content_not_name(tmp_path):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    p = put(tmp_path, "images-idx3-ubyte", make_idx(a), gz=True)  # gzipped, no .gz suffix
    np.testing.assert_array_equal(read_idx(p), a)


@pytest.mark.parametrize("name", ["w.idx", "w.idx.gz"])
def test_library_writer_round_trip(tmp_path, name):
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5
    p = write_idx(tmp_path / name, a)
    np.testing.assert_array_equal(read_idx(p, ndim=3, dtype=np.int32), a)
    assert (p.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    assert list(tmp_path.iterdir()) == [p]  # no temporary file left
    # the same bytes as the independent writer
    raw = gzip.decompress(p.read_bytes()) if name.endswith(".gz") else p.read_bytes()
    assert raw == make_idx(a)
    with pytest.raises(TypeError):
        write_idx(tmp_path / "bad", np.zeros(3, dtype=np.int64))


def _err(p, match, **kw):
    with pytest.raises(IDXError, match=match) as e:
        read_idx(p, **kw)
    assert str(p) in str(e.value)  # the message names the file
    assert isinstance(e.value, ValueError)
    return str(e.value)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data(tmp_path, gz):
    a = np.zeros((10, 28, 28), np.uint8)
    p = put(tmp_path, "t10k-images-idx3-ubyte" + (".gz" if gz else ""), make_idx(a, cut=100), gz)
    msg = _err(p, "truncated")
    assert "7840" in msg and "7740" in msg


def test_trailing_bytes(tmp_path):
    p = put(tmp_path, "lab", make_idx(np.arange(5, dtype=np.uint8), extra=b"\x00\x01"))
    _err(p, "2 bytes after")


def test_wrong_magic(tmp_path):
    p = put(tmp_path, "not-idx", make_idx(np.arange(5, dtype=np.uint8), magic_prefix=b"PK"))
    _err(p, "bad magic number 0x504b0801")


def test_unknown_type_code(tmp_path):
    p = put(tmp_path, "bad-type", make_idx(np.arange(5, dtype=np.uint8), code=0x07))
    _err(p, "unknown data type code 0x07")


def test_wrong_number_of_dims(tmp_path):
    p = put(tmp_path, "two-d", make_idx(np.zeros((4, 28), np.uint8)))
    _err(p, "wrong number of dimensions: the header says 2, expected 3", ndim=3)
    _err(p, "wrong number of dimensions", shape=(None, 28, 28))
    p3 = put(tmp_path, "three-d", make_idx(np.zeros((4, 27, 28), np.uint8)))
    _err(p3, r"wrong shape: the header says \(4, 27, 28\), expected \(\*, 28, 28\)", shape=(None, 28, 28))
    _err(p, "wrong data type", dtype=np.float32)


def test_zero_dims_and_short_files(tmp_path):
    _err(put(tmp_path, "zero", b"\x00\x00\x08\x00"), "0 dimensions")
    _err(put(tmp_path, "short", b"\x00\x00"), "too short")
    _err(put(tmp_path, "empty", b""), "too short")
    _err(put(tmp_path, "header", b"\x00\x00\x08\x03\x00\x00\x00\x02"), "truncated header")


def test_header_size_mismatch_large_dims(tmp_path):
    p = put(tmp_path, "liar", make_idx(np.zeros(10, np.uint8), dims=(60000, 28, 28)))
    _err(p, "truncated")


def test_corrupt_gzip(tmp_path):
    good = gzip.compress(make_idx(np.arange(1000, dtype=np.uint8).reshape(10, 100)))
    _err(put(tmp_path, "cut.gz", good[: len(good) // 2]), "corrupt or truncated gzip")
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    _err(put(tmp_path, "flip.gz", bytes(bad)), "corrupt or truncated gzip")


def test_gz_name_without_gzip_content(tmp_path):
    _err(put(tmp_path, "fake.gz", b"hello world"), "not gzip")


def test_idx_errors_are_invalid_file_errors(tmp_path):
    from shenjing.files import InvalidFileError

    p = tmp_path / "bad-idx1-ubyte"
    p.write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(InvalidFileError, match="bad magic"):
        read_idx(p)
    assert issubclass(IDXError, InvalidFileError) and issubclass(IDXError, ValueError)
