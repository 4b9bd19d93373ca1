#!/usr/bin/python3
"""classify.py - the acrnn GStreamer plugin from Python (PyGObject, Debian
python3-gi and gir1.2-gstreamer-1.0): classifies a file and prints every
"acrnn" message, then the final decision. A file without an audio track is
an error saying so.

    GST_PLUGIN_PATH=build/gst-plugins pipelines/examples/classify.py FILE [MODEL]
"""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def top_k(s):
    """[(label, score), ...] of the message's "top-k" field, a plain string
    ("dog:0.5700,coughing:0.2300") that PyGObject reads directly (the
    "labels" and "scores" GstValueArray fields need the gst-python
    overrides)."""
    items = [item.rpartition(":") for item in s.get_value("top-k").split(",")]
    return [(label, float(score)) for label, _, score in items]


def describe(s):
    """One line for an acrnn message structure."""
    top = ", ".join("%s %.3f" % (label, v) for label, v in top_k(s))
    if s.get_value("final"):
        head = "final    %d segments" % s.get_value("segments")
    else:
        head = "segment  %8.3f s" % (s.get_value("stream-time") / Gst.SECOND)
    return "%s: %s (%.3f)  top: %s" % (head, s.get_value("label"),
                                      s.get_value("confidence"), top)


def main():
    Gst.init(None)
    if len(sys.argv) not in (2, 3):
        print("usage: %s FILE [MODEL]" % sys.argv[0], file=sys.stderr)
        return 2
    uri = Gst.filename_to_uri(sys.argv[1])
    pipeline = Gst.parse_launch(
        "uridecodebin name=src caps=audio/x-raw expose-all-streams=false ! "
        "soundclassifier name=classifier batch=8 ! fakesink sync=false")
    src = pipeline.get_by_name("src")
    src.set_property("uri", uri)
    # The caps of the first audio stream uridecodebin meets (decoded or not),
    # to tell a file without an audio track from one without its decoder.
    audio = []

    def on_autoplug_continue(_bin, _pad, caps):
        name = caps.get_structure(0).get_name() if caps.get_size() else ""
        if not audio and name.startswith("audio/"):
            audio.append(caps.to_string())
        return True  # go on decoding

    src.connect("autoplug-continue", on_autoplug_continue)
    if len(sys.argv) == 3:
        pipeline.get_by_name("classifier").set_property("model", sys.argv[2])
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    status = 1
    while True:
        msg = bus.timed_pop_filtered(
            Gst.CLOCK_TIME_NONE,
            Gst.MessageType.ELEMENT | Gst.MessageType.ERROR | Gst.MessageType.EOS)
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "acrnn":
                print(describe(s), flush=True)
        elif msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            missing = err.matches(Gst.CoreError.quark(),
                                  Gst.CoreError.MISSING_PLUGIN)
            if missing and not audio:
                # only video (or other) streams: not a missing plug-in
                print("error: %s has no audio track" % sys.argv[1],
                      file=sys.stderr)
            elif missing:
                print("error: %s: no decoder for its audio track (%.60s): "
                      "install the GStreamer plugin that decodes it"
                      % (sys.argv[1], audio[0]), file=sys.stderr)
            else:
                print("error: %s\n(%s)" % (err.message, debug), file=sys.stderr)
            break
        else:
            status = 0
            break
    pipeline.set_state(Gst.State.NULL)
    return status


if __name__ == "__main__":
    sys.exit(main())
