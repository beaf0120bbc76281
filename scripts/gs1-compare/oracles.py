"""The independent GS1 parsers that `compare.py` asks for a verdict.

Each oracle takes a scan as pyck receives it (a GS as the byte 0x1D) and
answers ("ok", bracketed element string) or ("error", why). Neither oracle
is installed by this repository:

- `gs1encoders`: GS1's own Barcode Syntax Engine (MIT), a C library. No
  package registry carries it; build `libgs1encoders.so` from its source
  (`make` in `src/c-lib`) and point GS1ENCODERS_LIB at it.
- `biip` (PyPI, Apache-2.0): `pip install biip==5.2.0`. More lenient than
  the standard in places (docs/GS1.md, "Differential comparison").
"""

import ctypes
import os
import re

GS = "\x1d"


class Gs1Encoders:
    """GS1's Barcode Syntax Engine through its C API."""

    name = "gs1encoders"

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        lib.gs1_encoder_init.restype = ctypes.c_void_p
        lib.gs1_encoder_init.argtypes = [ctypes.c_void_p]
        for f in ("setAIdataStr", "setDataStr", "setScanData"):
            fn = getattr(lib, "gs1_encoder_" + f)
            fn.restype = ctypes.c_bool
            fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        for f in ("getErrMsg", "getAIdataStr", "getDataStr", "getVersion"):
            fn = getattr(lib, "gs1_encoder_" + f)
            fn.restype = ctypes.c_char_p
        lib.gs1_encoder_getErrMsg.argtypes = [ctypes.c_void_p]
        lib.gs1_encoder_getAIdataStr.argtypes = [ctypes.c_void_p]
        lib.gs1_encoder_getDataStr.argtypes = [ctypes.c_void_p]
        lib.gs1_encoder_getVersion.argtypes = []
        lib.gs1_encoder_setPermitZeroSuppressedGTINinDLuris.restype = ctypes.c_bool
        lib.gs1_encoder_setPermitZeroSuppressedGTINinDLuris.argtypes = [
            ctypes.c_void_p,
            ctypes.c_bool,
        ]
        self.lib = lib
        self.ctx = lib.gs1_encoder_init(None)
        # pyck pads a GTIN-8, -12 or -13 in a link's /01/ (a documented
        # deviation); the engine does too when told.
        lib.gs1_encoder_setPermitZeroSuppressedGTINinDLuris(self.ctx, True)
        self.version = lib.gs1_encoder_getVersion().decode()

    def read(self, scan):
        lib, ctx = self.lib, self.ctx
        data = scan.encode("utf-8")
        if scan.startswith("]"):
            ok = lib.gs1_encoder_setScanData(ctx, data)
        elif scan.startswith("("):
            ok = lib.gs1_encoder_setAIdataStr(ctx, data)
        elif re.match(r"(?i)https?://", scan):
            ok = lib.gs1_encoder_setDataStr(ctx, data)
        else:
            # Bare, or with a leading FNC1: what a GS1-128 reader without
            # symbology identifiers sends.
            ok = lib.gs1_encoder_setScanData(ctx, b"]C1" + data.lstrip(GS.encode()))
        if not ok:
            return ("error", lib.gs1_encoder_getErrMsg(ctx).decode("latin-1"))
        ais = lib.gs1_encoder_getAIdataStr(ctx)
        if ais is None and scan[:3] in ("]E0", "]E4"):
            # An EAN-13 or EAN-8: plain data to the engine, a GTIN to the
            # General Specifications, and so to pyck: AI (01), padded.
            digits = lib.gs1_encoder_getDataStr(ctx).decode()
            return ("ok", "(01)" + digits.zfill(14))
        if ais is None:
            return ("error", "no AI data (plain data)")
        return ("ok", ais.decode("latin-1"))


class Biip:
    """biip's GS1 parser: element strings and Digital Link URIs."""

    name = "biip"

    def __init__(self):
        import biip  # noqa: F401  (installed by the user: pip install biip)
        from biip.gs1_digital_link_uris import GS1DigitalLinkURI
        from biip.gs1_messages import GS1Message

        self.message = GS1Message
        self.link = GS1DigitalLinkURI
        self.version = biip.__version__ if hasattr(biip, "__version__") else "?"

    def read(self, scan):
        if scan[:3] in ("]Q1", "]d1", "]J0") and re.match(r"(?i)https?://", scan[3:]):
            scan = scan[3:]  # a link in a 2D code's plain-data mode
        if scan[:3] in ("]E0", "]E4"):
            from biip.gtin import Gtin

            try:
                return ("ok", "(01)" + Gtin.parse(scan[3:]).as_gtin_14())
            except Exception as e:
                return ("error", str(e))
        try:
            if re.match(r"(?i)https?://", scan):
                msg = self.link.parse(scan).as_gs1_message()
            else:
                text = scan
                for ident in ("]C1", "]e0", "]d2", "]Q3", "]J1"):
                    if text.startswith(ident):
                        text = text[len(ident):]
                        break
                else:
                    if text.startswith("]"):
                        return ("error", "symbology identifier that carries no GS1 data")
                if text.startswith("("):
                    msg = self.message.parse_hri(text)
                else:
                    msg = self.message.parse(text.lstrip(GS))
        except Exception as e:  # biip raises its own ParseError and ValueError
            return ("error", str(e))
        return ("ok", "".join(f"({es.ai.ai}){es.value}" for es in msg.element_strings))


def load(name):
    if name == "gs1encoders":
        path = os.environ.get("GS1ENCODERS_LIB")
        if not path:
            raise SystemExit(
                "set GS1ENCODERS_LIB to the path of libgs1encoders.so "
                "(GS1 Barcode Syntax Engine, built with `make` in src/c-lib)"
            )
        return Gs1Encoders(path)
    if name == "biip":
        return Biip()
    raise SystemExit(f"unknown oracle {name}: gs1encoders or biip")
