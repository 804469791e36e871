//! PostgreSQL's binary `COPY` format, written by hand for the few column types the event log
//! uses: the cheapest way to hand PostgreSQL many rows (no SQL to parse per row, no arrays to
//! unpack, no text to convert).
//!
//! Format: a signature and two zero words; per row the field count, then per field its length
//! (-1 for NULL) and its bytes in network order; a -1 field count ends the data.

use super::{StoreError, to_sql_i64};

/// Seconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC), where timestamps count from.
const POSTGRES_EPOCH_UNIX: i64 = 946_684_800;

/// Rows being encoded for `COPY … FROM STDIN (FORMAT binary)`.
#[derive(Debug)]
pub(crate) struct CopyRows {
    buf: Vec<u8>,
}

impl CopyRows {
    /// An empty copy stream with room for about `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> CopyRows {
        let mut buf = Vec::with_capacity(capacity.max(32));
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
        buf.extend_from_slice(&0i32.to_be_bytes()); // no header extension
        CopyRows { buf }
    }

    /// Starts a row of `fields` fields.
    pub(crate) fn row(&mut self, fields: i16) -> &mut CopyRows {
        self.buf.extend_from_slice(&fields.to_be_bytes());
        self
    }

    /// A `BIGINT`.
    pub(crate) fn int8(&mut self, value: i64) -> &mut CopyRows {
        self.fixed(&value.to_be_bytes())
    }

    /// An `INTEGER`.
    pub(crate) fn int4(&mut self, value: i32) -> &mut CopyRows {
        self.fixed(&value.to_be_bytes())
    }

    /// A `SMALLINT`.
    pub(crate) fn int2(&mut self, value: i16) -> &mut CopyRows {
        self.fixed(&value.to_be_bytes())
    }

    /// A fixed-width value already in network order (at most 8 bytes here).
    fn fixed(&mut self, bytes: &[u8]) -> &mut CopyRows {
        // Lengths of 2, 4 or 8 always fit the i32 length word.
        self.buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
        self
    }

    /// A `BYTEA`, or a `TEXT` given as UTF-8.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for a value of 2 GiB or more (a field's length is an `i32`).
    pub(crate) fn bytes(&mut self, value: &[u8]) -> Result<&mut CopyRows, StoreError> {
        let len = i32::try_from(value.len())
            .map_err(|_| StoreError::OutOfRange { what: "field length", value: value.len() as u64 })?;
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(value);
        Ok(self)
    }

    /// A `TIMESTAMPTZ` from Unix seconds.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] if the time does not fit PostgreSQL's microseconds.
    pub(crate) fn timestamptz(&mut self, unix_seconds: u64) -> Result<&mut CopyRows, StoreError> {
        let out_of_range = || StoreError::OutOfRange { what: "timestamp", value: unix_seconds };
        let micros = to_sql_i64(unix_seconds, "timestamp")
            .ok()
            .and_then(|s| s.checked_sub(POSTGRES_EPOCH_UNIX))
            .and_then(|s| s.checked_mul(1_000_000))
            .ok_or_else(out_of_range)?;
        Ok(self.int8(micros))
    }

    /// A NULL.
    pub(crate) fn null(&mut self) -> &mut CopyRows {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    /// The bytes encoded since the start or the last [`CopyRows::clear`].
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Forgets the bytes encoded so far (once sent), keeping the buffer.
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
    }

    /// Ends the stream and returns its bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_signature_fields_and_trailer() -> Result<(), StoreError> {
        let mut rows = CopyRows::with_capacity(0);
        rows.row(4).int8(-2).int2(3).null().bytes(b"ab")?;
        rows.row(1).timestamptz(946_684_801)?;
        let bytes = rows.finish();
        let mut expected = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        expected.extend_from_slice(&[0, 4, 0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 254]);
        expected.extend_from_slice(&[0, 0, 0, 2, 0, 3, 255, 255, 255, 255, 0, 0, 0, 2, b'a', b'b']);
        expected.extend_from_slice(&[0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]);
        expected.extend_from_slice(&[255, 255]);
        assert_eq!(bytes, expected);
        Ok(())
    }

    #[test]
    fn refuses_times_postgres_cannot_hold() {
        let mut rows = CopyRows::with_capacity(0);
        assert!(rows.timestamptz(u64::MAX).is_err());
        assert!(rows.timestamptz(i64::MAX as u64).is_err(), "seconds overflow as microseconds");
    }
}
