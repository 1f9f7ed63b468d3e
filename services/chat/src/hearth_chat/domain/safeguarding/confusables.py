"""Look-alike letters people (and spammers) use in place of Latin ones.

Not the full Unicode confusables list: the common Cyrillic and Greek homoglyphs, Latin
letters that have no decomposition (dotless i, o with stroke, ...) and the small capitals
of "fancy text" generators. Full-width, circled and mathematical letters need no entry:
NFKD already turns them into plain ones.
"""

from __future__ import annotations

__all__ = ["CONFUSABLES"]

# Look-alikes for Latin letters (upper and lower case), after accents are stripped;
# written as escapes so the source shows which script each one is from.
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "\u0410": "a",  # cyrillic capital letter a
    "\u0412": "b",  # cyrillic capital letter ve
    "\u0415": "e",  # cyrillic capital letter ie
    "\u041a": "k",  # cyrillic capital letter ka
    "\u041c": "m",  # cyrillic capital letter em
    "\u041d": "h",  # cyrillic capital letter en
    "\u041e": "o",  # cyrillic capital letter o
    "\u0420": "p",  # cyrillic capital letter er
    "\u0421": "c",  # cyrillic capital letter es
    "\u0422": "t",  # cyrillic capital letter te
    "\u0425": "x",  # cyrillic capital letter ha
    "\u0423": "y",  # cyrillic capital letter u
    "\u0405": "s",  # cyrillic capital letter dze
    "\u0406": "i",  # cyrillic capital letter byelorussian-ukrainian i
    "\u0408": "j",  # cyrillic capital letter je
    "\u04ae": "y",  # cyrillic capital letter straight u
    "\u0500": "d",  # cyrillic capital letter komi de
    "\u051a": "q",  # cyrillic capital letter qa
    "\u051c": "w",  # cyrillic capital letter we
    "\u04ba": "h",  # cyrillic capital letter shha
    "\u04c0": "l",  # cyrillic letter palochka
    "\u0430": "a",  # cyrillic small letter a
    "\u0432": "b",  # cyrillic small letter ve
    "\u0435": "e",  # cyrillic small letter ie
    "\u043a": "k",  # cyrillic small letter ka
    "\u043c": "m",  # cyrillic small letter em
    "\u043d": "h",  # cyrillic small letter en
    "\u043e": "o",  # cyrillic small letter o
    "\u0440": "p",  # cyrillic small letter er
    "\u0441": "c",  # cyrillic small letter es
    "\u0442": "t",  # cyrillic small letter te
    "\u0443": "y",  # cyrillic small letter u
    "\u0445": "x",  # cyrillic small letter ha
    "\u0455": "s",  # cyrillic small letter dze
    "\u0456": "i",  # cyrillic small letter byelorussian-ukrainian i
    "\u0458": "j",  # cyrillic small letter je
    "\u04bb": "h",  # cyrillic small letter shha
    "\u0501": "d",  # cyrillic small letter komi de
    "\u051b": "q",  # cyrillic small letter qa
    "\u051d": "w",  # cyrillic small letter we
    "\u0475": "v",  # cyrillic small letter izhitsa
    "\u04cf": "l",  # cyrillic small letter palochka
    "\u04af": "y",  # cyrillic small letter straight u
    "\u0261": "g",  # latin small letter script g
    # Greek
    "\u0391": "a",  # greek capital letter alpha
    "\u0392": "b",  # greek capital letter beta
    "\u0395": "e",  # greek capital letter epsilon
    "\u0396": "z",  # greek capital letter zeta
    "\u0397": "h",  # greek capital letter eta
    "\u0399": "i",  # greek capital letter iota
    "\u039a": "k",  # greek capital letter kappa
    "\u039c": "m",  # greek capital letter mu
    "\u039d": "n",  # greek capital letter nu
    "\u039f": "o",  # greek capital letter omicron
    "\u03a1": "p",  # greek capital letter rho
    "\u03a4": "t",  # greek capital letter tau
    "\u03a5": "y",  # greek capital letter upsilon
    "\u03a7": "x",  # greek capital letter chi
    "\u03b1": "a",  # greek small letter alpha
    "\u03b5": "e",  # greek small letter epsilon
    "\u03b9": "i",  # greek small letter iota
    "\u03ba": "k",  # greek small letter kappa
    "\u03bd": "v",  # greek small letter nu
    "\u03bf": "o",  # greek small letter omicron
    "\u03c1": "p",  # greek small letter rho
    "\u03c4": "t",  # greek small letter tau
    "\u03c5": "u",  # greek small letter upsilon
    "\u03c7": "x",  # greek small letter chi
    "\u03c9": "w",  # greek small letter omega
    "\u03f2": "c",  # greek lunate sigma symbol
    "\u03f3": "j",  # greek letter yot
    # Latin letters without a decomposition, and small capitals ("fancy text")
    "\u0131": "i",  # latin small letter dotless i
    "\u00f8": "o",  # latin small letter o with stroke
    "\u00d8": "o",  # latin capital letter o with stroke
    "\u0142": "l",  # latin small letter l with stroke
    "\u0141": "l",  # latin capital letter l with stroke
    "\u0111": "d",  # latin small letter d with stroke
    "\u0110": "d",  # latin capital letter d with stroke
    "\u0127": "h",  # latin small letter h with stroke
    "\u0167": "t",  # latin small letter t with stroke
    "\u0251": "a",  # latin small letter alpha
    "\u0269": "i",  # latin small letter iota
    "\u00e6": "ae",  # latin small letter ae
    "\u00c6": "ae",  # latin capital letter ae
    "\u0153": "oe",  # latin small ligature oe
    "\u0152": "oe",  # latin capital ligature oe
    "\u1d00": "a",  # latin letter small capital a
    "\u0299": "b",  # latin letter small capital b
    "\u1d04": "c",  # latin letter small capital c
    "\u1d05": "d",  # latin letter small capital d
    "\u1d07": "e",  # latin letter small capital e
    "\u0493": "f",  # cyrillic small letter ghe with stroke
    "\u0262": "g",  # latin letter small capital g
    "\u029c": "h",  # latin letter small capital h
    "\u026a": "i",  # latin letter small capital i
    "\u1d0a": "j",  # latin letter small capital j
    "\u1d0b": "k",  # latin letter small capital k
    "\u029f": "l",  # latin letter small capital l
    "\u1d0d": "m",  # latin letter small capital m
    "\u0274": "n",  # latin letter small capital n
    "\u1d0f": "o",  # latin letter small capital o
    "\u1d18": "p",  # latin letter small capital p
    "\u0280": "r",  # latin letter small capital r
    "\ua731": "s",  # latin letter small capital s
    "\u1d1b": "t",  # latin letter small capital t
    "\u1d1c": "u",  # latin letter small capital u
    "\u1d20": "v",  # latin letter small capital v
    "\u1d21": "w",  # latin letter small capital w
    "\u028f": "y",  # latin letter small capital y
    "\u1d22": "z",  # latin letter small capital z
}
