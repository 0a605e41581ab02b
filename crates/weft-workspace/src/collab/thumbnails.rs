//! Thumbnails of image attachments: at most `THUMBNAIL_PX` on the longer side, made on first
//! request and kept in the blob store next to the content they come from (keyed by its
//! hash, so every attachment of the same picture shares one). Decoding is bounded (pixel
//! size and memory), so a crafted "decompression bomb" costs a refusal, not the server's
//! memory; a picture that cannot be decoded simply has no thumbnail.

use std::io::Cursor;

use bytes::Bytes;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use uuid::Uuid;

use super::attachments::AttachmentView;
use crate::{Error, Result, Workspace};

/// The longer side of a thumbnail, in pixels.
pub const THUMBNAIL_PX: u32 = 320;

/// Pictures larger than this (either side) get no thumbnail.
const MAX_SIDE: u32 = 12_000;

/// The most memory one decode may take.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// The content types a thumbnail is made of.
pub fn has_thumbnail(content_type: &str) -> bool {
    matches!(content_type, "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/bmp")
}

/// A thumbnail of `bytes`: PNG when the picture has transparency, JPEG otherwise.
fn make(bytes: &[u8]) -> std::result::Result<(Vec<u8>, &'static str), String> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| e.to_string())?;
    let small = if picture.width() > THUMBNAIL_PX || picture.height() > THUMBNAIL_PX {
        picture.thumbnail(THUMBNAIL_PX, THUMBNAIL_PX)
    } else {
        picture
    };
    let mut out = Cursor::new(Vec::new());
    if small.color().has_alpha() {
        small.write_to(&mut out, ImageFormat::Png).map_err(|e| e.to_string())?;
        Ok((out.into_inner(), "image/png"))
    } else {
        DynamicImage::ImageRgb8(small.to_rgb8()).write_to(&mut out, ImageFormat::Jpeg).map_err(|e| e.to_string())?;
        Ok((out.into_inner(), "image/jpeg"))
    }
}

impl Workspace {
    /// The thumbnail of an image attachment, for whoever may see the attachment: the view,
    /// the thumbnail and its content type. 404 for files that are not pictures, or whose
    /// picture cannot be read.
    pub async fn attachment_thumbnail(
        &self,
        principal: &weft_model::Principal,
        id: Uuid,
    ) -> Result<(AttachmentView, Bytes, &'static str)> {
        let blobs = self.blobs()?;
        let view = self.attachment(principal, id).await?;
        let none = |why: &str| Error::NotFound(format!("attachment {id} has no thumbnail: {why}"));
        if !has_thumbnail(&view.content_type) {
            return Err(none("it is not a picture"));
        }
        let key = format!("thumbnails/{THUMBNAIL_PX}/{}", view.sha256);
        if let Some(made) = blobs.get_derived(&key).await? {
            let kind = if made.starts_with(&[0x89, b'P', b'N', b'G']) { "image/png" } else { "image/jpeg" };
            return Ok((view, made, kind));
        }
        let original = blobs.get(&view.sha256).await?;
        let (made, kind) = tokio::task::spawn_blocking(move || make(&original))
            .await
            .map_err(|e| Error::Internal(format!("the thumbnail maker stopped: {e}")))?
            .map_err(|e| {
                tracing::info!(attachment = %id, error = %e, "no thumbnail");
                none("the picture cannot be read")
            })?;
        let made = Bytes::from(made);
        blobs.put_derived(&key, made.clone()).await?;
        Ok((view, made, kind))
    }
}

#[cfg(test)]
mod tests {
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;

    fn encode(picture: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_photo_shrinks_to_a_jpeg_keeping_its_proportions() {
        let photo = RgbImage::from_pixel(1200, 600, Rgb([200, 30, 30]));
        let (thumb, kind) = make(&encode(DynamicImage::ImageRgb8(photo), ImageFormat::Png)).unwrap();
        assert_eq!(kind, "image/jpeg");
        let back = image::load_from_memory(&thumb).unwrap();
        assert_eq!((back.width(), back.height()), (THUMBNAIL_PX, THUMBNAIL_PX / 2));
    }

    #[test]
    fn transparency_stays_png_and_small_pictures_keep_their_size() {
        let logo = RgbaImage::from_pixel(40, 20, Rgba([0, 0, 0, 0]));
        let (thumb, kind) = make(&encode(DynamicImage::ImageRgba8(logo), ImageFormat::Png)).unwrap();
        assert_eq!(kind, "image/png");
        let back = image::load_from_memory(&thumb).unwrap();
        assert_eq!((back.width(), back.height()), (40, 20));
    }

    #[test]
    fn broken_and_oversized_pictures_are_refused_without_decoding_them() {
        assert!(make(b"\x89PNG\r\n\x1a\n not really").is_err());
        // A PNG header claiming 20,000 × 20,000 pixels: refused from its header.
        let mut bomb = encode(DynamicImage::ImageRgb8(RgbImage::new(1, 1)), ImageFormat::Png);
        bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        // The header's checksum over its new content, so only the size gives it away.
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = make(&bomb).unwrap_err();
        assert!(err.to_lowercase().contains("limit"), "{err}");
    }

    /// CRC-32 (IEEE), as PNG chunks carry it.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { 0xedb8_8320 ^ (crc >> 1) } else { crc >> 1 };
            }
        }
        !crc
    }
}
