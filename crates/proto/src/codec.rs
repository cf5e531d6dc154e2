//! The protobuf codec of Herald's gRPC servers (`*_server` modules; the build
//! script names it). It is tonic-prost's, except for a request that does not
//! decode: tonic-prost answers `INTERNAL`, which tells a caller "a bug of
//! ours, retry later", while the bytes are the caller's and sending them
//! again fails again. The contract answers bad input with
//! `INVALID_ARGUMENT`. Clients keep tonic-prost's codec: a response that does
//! not decode is no fault of the request.

use std::marker::PhantomData;

use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// Encodes responses of type `T`, decodes requests of type `U`.
#[derive(Debug, Clone)]
pub struct ServerCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for ServerCodec<T, U> {
    fn default() -> Self {
        ServerCodec {
            _types: PhantomData,
        }
    }
}

impl<T, U> Codec for ServerCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = RequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::default().encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder(ProstCodec::<T, U>::default().decoder())
    }
}

/// tonic-prost's decoder with its error turned into `INVALID_ARGUMENT`.
#[derive(Debug, Clone)]
pub struct RequestDecoder<U>(ProstDecoder<U>);

impl<U: prost::Message + Default> Decoder for RequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        // prost's message names the message and field paths where decoding
        // stopped (never a value), e.g. "failed to decode Protobuf message:
        // SubmitRequest.actions: ActionSpec.params: ...: recursion limit
        // reached": worth showing the caller.
        self.0
            .decode(buf)
            .map_err(|status| Status::invalid_argument(status.message().to_owned()))
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}
