"""Reading the second-generation ID card: frame codec, chip-data parser, transports, card events.

Entry points: ``discovery.open_reader(spec)`` gives a ``Reader`` whatever the wire (PC/SC, serial,
USB bulk, vendor SDK, simulator); ``Reader.read_card()`` returns ``card.ChipData`` with the raw bytes
kept beside the parsed fields; ``events.CardEventStream`` runs the desk's read loop on a thread;
``errors`` holds the typed errors with their bilingual messages. No Qt here.
"""
