"""A minimal streaming PDF writer: pages of vector drawing, written as they come.

Posters for a whole province go into one file, so no page is held in memory once written.
"""
import zlib
from typing import BinaryIO


class PdfWriter:
    """Write ``add_page`` content streams to ``out``; ``close`` writes the page tree and xref."""

    def __init__(self, out: BinaryIO, title: str = ""):
        self.out = out
        self.offsets: dict[int, int] = {}
        self.page_ids: list[int] = []
        self.next_id = 3  # 1 is the catalog, 2 the page tree, both written last
        self.title = title
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.out.write(data)

    def _object(self, object_id: int, body: bytes) -> None:
        self.offsets[object_id] = self.out.tell()
        self._write(b"%d 0 obj\n" % object_id + body + b"\nendobj\n")

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def add_page(self, content: bytes, width_pt: float, height_pt: float) -> None:
        """One page whose drawing operators are ``content``, in points from the bottom left."""
        stream = zlib.compress(content, 6)
        contents_id, page_id = self._new_id(), self._new_id()
        self._object(contents_id, b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
                     + stream + b"\nendstream")
        self._object(page_id, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] "
                     b"/Contents %d 0 R /Resources << >> >>" % (width_pt, height_pt, contents_id))
        self.page_ids.append(page_id)

    def close(self) -> None:
        kids = b" ".join(b"%d 0 R" % page_id for page_id in self.page_ids)
        self._object(2, b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(self.page_ids), kids))
        self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        info_id = self._new_id()
        self._object(info_id, b"<< /Title <%s> /Producer (station feedback) >>"
                     % ("\ufeff" + self.title).encode("utf-16-be").hex().encode())
        xref_at = self.out.tell()
        count = self.next_id
        lines = [b"xref\n0 %d\n" % count, b"0000000000 65535 f \n"]
        lines += [b"%010d 00000 n \n" % self.offsets[object_id] for object_id in range(1, count)]
        self._write(b"".join(lines))
        self._write(b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                    % (count, info_id, xref_at))
