"""A labelled corpus for the detectors: :data:`CORPUS` is a list of ``(text, [(kind, start, end)])``.

Rows are written with inline labels, ``[[kind:value]]``, so they stay readable; :func:`parse`
removes the markers and computes the offsets. Values are real formats: issuers' test cards,
IBANs with valid check digits, libphonenumber's example numbers, python-stdnum's examples,
BIP vectors, EIP-55 vectors. About half of the rows are negatives: things other tools flag
(timestamps, UUIDs, order numbers, dates, prices, product codes, version strings, numbers
that fail their checksum, numbers without the context their detector requires).
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"\[\[([a-z_0-9]+):(.*?)\]\]", re.DOTALL)


def parse(marked: str) -> tuple[str, list[tuple[str, int, int]]]:
    """``"call [[phone:030 123456]]"`` -> ``("call 030 123456", [("phone", 5, 15)])``."""
    text, labels, pos = [], [], 0
    length = 0
    for m in _LABEL.finditer(marked):
        before = marked[pos : m.start()]
        text.append(before)
        length += len(before)
        kind, value = m.group(1), m.group(2)
        labels.append((kind, length, length + len(value)))
        text.append(value)
        length += len(value)
        pos = m.end()
    text.append(marked[pos:])
    return "".join(text), labels


ROWS = [
    # -- e-mail -------------------------------------------------------------------------------
    "Please write to [[email:jane.doe@bank.example]] before Friday.",
    "Kontakt: [[email:max.mustermann+konto@sparkasse-example.de]]",
    "cc: [[email:OPS_TEAM@Example.co.uk]], [[email:a.b-c@sub.domain.example.org]].",
    "mailto:[[email:support@replayvault.example]]?subject=Hello",
    "The handle @media is CSS, not an address.",
    "user@localhost is not routable and has no TLD.",
    "Twitter handle @jane_doe and price 5@3.99 are not e-mails.",
    # -- cards (issuers' published test numbers) ------------------------------------------------
    "Visa test card [[card:4111 1111 1111 1111]], exp 12/29.",
    "Pay with [[card:4012888888881881]] please",
    "MasterCard [[card:5555-5555-5555-4444]] was declined.",
    "New Mastercard 2-series: [[card:2223003122003222]]",
    "Amex [[card:378282246310005]] (15 digits)",
    "Discover: [[card:6011 1111 1111 1117]]",
    "JCB [[card:3530111333300000]] charged",
    "Diners Club [[card:36227206271667]]",
    "UnionPay [[card:6200000000000005]]",
    "card number [[card:4111.1111.1111.1111]] with dots",
    "Karte [[card:4111 1111 1111 1111]] und [[card:5555 5555 5555 4444]] gespeichert.",
    "16 digits failing Luhn: 4111 1111 1111 1112",
    "Another non-Luhn run 1234 5678 9012 3456 in a table.",
    "Tracking number 9400 1000 0000 0000 0000 00 is not a card.",
    "Millisecond timestamp 1700000000000 in a log line.",
    "ts=1700000000004 (Luhn-valid timestamp, still not a card)",
    # -- IBAN ---------------------------------------------------------------------------------
    "IBAN: [[iban:DE89 3704 0044 0532 0130 00]]",
    "Überweisung an [[iban:DE89370400440532013000]] heute.",
    "UK account [[iban:GB82 WEST 1234 5698 7654 32]].",
    "Rekening [[iban:NL91ABNA0417164300]] (ABN AMRO)",
    "Compte [[iban:FR14 2004 1010 0505 0001 3M02 606]]",
    "Conto [[iban:IT60 X054 2811 1010 0000 0123 456]]",
    "Cuenta [[iban:ES91 2100 0418 4502 0005 1332]]",
    "Konto [[iban:AT61 1904 3002 3457 3201]]",
    "Compte suisse [[iban:CH93 0076 2011 6238 5295 7]]",
    "Konto [[iban:BE68 5390 0754 7034]] in Belgien",
    "IBAN DE89 3704 0044 0532 0130 01 has a bad check digit.",
    "Codes like AB12 and MP34 are not IBANs.",
    # -- BIC ----------------------------------------------------------------------------------
    "BIC: [[bic:DEUTDEFFXXX]]",
    "SWIFT code [[bic:COBADEFF]] for Commerzbank",
    "Bank [[bic:ABNANL2A]] in Amsterdam",
    "pay via [[bic:INGBNL2A]] or [[bic:RABONL2U]]",
    "BIC/SWIFT [[bic:BNPAFRPPXXX]]",
    "Barclays [[bic:BARCGB22]] branch",
    "JPMorgan [[bic:CHASUS33]] wire",
    "CUSTOMER SERVICE is open; PASSWORD must be changed.",
    "The words BUSINESS and OVERVIEW are upper case, not BICs.",
    "deutdeff in lower case is not a BIC.",
    # -- ABA routing numbers ------------------------------------------------------------------
    "Routing number [[aba:011000015]] (Federal Reserve Bank of Boston)",
    "ABA [[aba:021000021]], account 123456789",
    "routing: [[aba:026009593]]",
    "RTN [[aba:121000248]] for the wire",
    "Order 021000021 was shipped.",
    "routing number 021000022 fails its checksum",
    # -- SSN ----------------------------------------------------------------------------------
    "SSN [[ssn:536-90-4399]] on file",
    "Social Security Number: [[ssn:536 90 4399]]",
    "ssn [[ssn:536904399]]",
    "Applicant [[ssn:123-45-6789]] submitted the form.",
    "Area 666-12-3456 is never issued.",
    "Area 000-12-3456 is never issued either.",
    "Group zero 536-00-4399 is invalid.",
    "Woolworth's wallet card 078-05-1120 is a known invalid SSN.",
    "Reference 536904399 without any label.",
    # -- national IDs (python-stdnum's examples and numbers with computed check digits) -----------
    "Steuer-ID [[national_id:36 574 261 809]]",
    "Ihre steuerliche Identifikationsnummer lautet [[national_id:51 928 327 648]].",
    "IdNr [[national_id:36574261809]]",
    "Steuernummer [[national_id:181/815/08155]]",
    "Numéro de sécurité sociale : [[national_id:2 95 10 99 126 111 93]]",
    "NIR [[national_id:185057800608491]] enregistré",
    "Corse: [[national_id:253072B07300470]]",
    "Numéro fiscal [[national_id:3023217600053]]",
    "DNI [[national_id:54362315-K]]",
    "DNI [[national_id:12345678Z]] y NIE [[national_id:X-2482300-W]]",
    "NIE [[national_id:Y7654321G]]",
    "NIF [[national_id:M-1234567-L]]",
    "Codice fiscale [[national_id:RCCMNL83S18D969H]]",
    "CF: [[national_id:MRTMTT25D09F205Z]]",
    "BSN [[national_id:1112.22.333]]",
    "burgerservicenummer [[national_id:631931491]]",
    "National Insurance number [[national_id:AB 12 34 56 C]]",
    "NINO: [[national_id:JG103759A]]",
    "The HMRC specimen QQ 12 34 56 C is not a valid NINO.",
    "Prefix GB 12 34 56 A is never issued.",
    "Steuer-ID 36 574 261 890 has a wrong check digit.",
    "Bare 36574261809 without a label.",
    "DNI 54362315-Z has the wrong letter.",
    "Numéro 295109912611199 with a bad key.",
    "Code RCCMNL83S18D969X has a bad check character.",
    "Number 111222333 without a BSN label.",
    # -- phone numbers (libphonenumber's example numbers) --------------------------------------
    "Call [[phone:+49 30 123456]] or [[phone:030 123456]].",
    "Handy: [[phone:01512 3456789]]",
    "Tél. [[phone:+33 1 23 45 67 89]] ou [[phone:06 12 34 56 78]]",
    "UK office [[phone:+44 121 234 5678]], mobile [[phone:07400 123456]]",
    "US desk [[phone:(201) 555-0123]] or [[phone:+1 201-555-0123]]",
    "Teléfono [[phone:612 34 56 78]]",
    "Telefono [[phone:02 1234 5678]], cellulare [[phone:312 345 6789]]",
    "Bel [[phone:010 123 4567]] of [[phone:06 12345678]]",
    "Tel. [[phone:044 668 18 00]]",
    "Telefon [[phone:01 234567890]] oder [[phone:+43 664 123456]]",
    "International: [[phone:+41 21 234 56 78]]",
    "Phone: [[phone:0049 30 123456]]",
    "Anruf unter [[phone:0301234567]] erbeten",
    "Due 2026-11-29, paid 29.11.2026.",
    "Price EUR 1,234.56 incl. VAT; total 12.345,67 EUR",
    "Order ORD-2026-000123 shipped.",
    "Product SKU-4711-XL in stock.",
    "Event at 1700000000000 ms.",
    "Invoice 2026-000123 is overdue.",
    "Version 1.2.3.4.5 released.",
    "Room 1204, floor 12, building 7.",
    "Scores 12 34 56 in three rounds.",
    "Between 2004-2016 we grew.",
    # -- IP addresses -------------------------------------------------------------------------
    "Client [[ip:192.168.1.1]] connected.",
    "from [[ip:10.0.0.1]].",
    "IPv6 [[ip:2001:db8::8a2e:370:7334]] and loopback ::1 (not personal data)",
    "link-local [[ip:fe80::1]] on eth0",
    "mapped [[ip:::ffff:192.0.2.128]]",
    "full [[ip:2001:0db8:85a3:0000:0000:8a2e:0370:7334]]",
    "Version 1.2.3.4.5 is not an address.",
    "Tag v1.2.3.4 is a version.",
    "Octet 256.1.1.1 is out of range.",
    "Time 10:30:45 and MAC 00:1A:2B:3C:4D:5E are not IPs.",
    "Ratio 3:2:1 is not IPv6.",
    # -- crypto addresses ---------------------------------------------------------------------
    "Send BTC to [[crypto:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2]]",
    "Genesis [[crypto:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa]]",
    "P2SH [[crypto:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy]]",
    "Segwit [[crypto:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4]]",
    "Upper case [[crypto:BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4]]",
    "Taproot [[crypto:bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0]]",
    "Testnet [[crypto:tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7]]",
    "Testnet taproot [[crypto:tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c]]",
    "ETH [[crypto:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed]]",
    "ETH [[crypto:0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359]]",
    "lower [[crypto:0xde709f2102306220921060314715629080e2fb77]]",
    "upper [[crypto:0x52908400098527886E0F7030069857D2E4169EE7]]",
    "Bad checksum 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
    "Bad base58 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",
    "Bech32 instead of bech32m: bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "Wrong HRP tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
    "Mixed case tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
    "Git commit 3f786850e387550fdab836ed7e6dc881de23001b is 40 hex digits.",
    # -- BIP-39 -------------------------------------------------------------------------------
    "seed: [[bip39:abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about]]",
    "[[bip39:legal winner thank year wave sausage worth useful legal winner thank yellow]]",
    "my words:\n[[bip39:letter advice cage absurd amount doctor acoustic avoid letter advice cage above]]\nDo not share.",
    # A run is every wordlist word in a row, whatever the line breaks: "keep" and "safe" are words too.
    "[[bip39:letter advice cage absurd amount doctor acoustic avoid letter advice cage above\nkeep safe]]",
    "[[bip39:zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong]]",
    "typo: [[bip39:abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon]]",
    "only eleven: abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    "The quick brown fox jumps over the lazy dog again and again until the sun goes down.",
    "we have a plan to build the best bank app for every family in this city and country",
    # -- secrets ------------------------------------------------------------------------------
    "WIF [[secret:5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ]]",
    "key [[secret:KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617]]",
    "priv [[secret:e9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa33262]]",
    "token [[secret:eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c]]",
    "aws_access_key_id = [[secret:AKIAIOSFODNN7EXAMPLE]]",
    "GITHUB_TOKEN=[[secret:ghp_16C7e42F292c6912E7710c838347Ae178B4a]]",
    "slack [[secret:xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx]]",
    "stripe [[secret:sk_live_4eC39HqLyjWDarjtT1zdp7dc]]",
    "maps key [[secret:AIzaSyA1234567890abcdefghijklmnopqrstuv]]",
    "write key [[secret:rvw_q0dG4mX2b7Vn9LkJ3sT8aP1yR6uW5eZc0HfIoNgBqKe]]",
    "UUID 123e4567-e89b-12d3-a456-426614174000 is an identifier, not a secret.",
    "eyJhbGciOiJub25l is not a full token",
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 is 40 hex digits.",
    # -- one-time codes -----------------------------------------------------------------------
    "Your verification code is [[otp:482913]].",
    "OTP: [[otp:1234]]",
    "2FA code [[otp:90210]]",
    "Ihr Bestätigungscode: [[otp:773311]]",
    "Votre code de vérification est [[otp:551204]]",
    "TAN [[otp:12345678]] eingeben",
    "security code [[otp:4321]]",
    "Your order 482913 has shipped.",
    "In 2026 we opened 1234 accounts.",
    "The meeting is on floor 7, room 4711.",
    "OTP sent. Your balance is 1,234.56 EUR.",
    "Important: instant transfer 482913 done.",
]

# Mixed rows: several kinds, prose around them, non-ASCII characters before the values.
ROWS += [
    "Grüße aus Köln! IBAN [[iban:DE89 3704 0044 0532 0130 00]], BIC [[bic:COBADEFFXXX]], Tel. [[phone:0221 1234567]].",
    "Müller, [[email:mueller@example.de]], Steuer-ID [[national_id:94 514 627 048]].",
    "José – [[phone:+34 612 34 56 78]] – DNI [[national_id:87654321X]]",
    "François paid with [[card:4111111111111111]] from [[ip:203.0.113.7]] on 2026-11-29.",
    "Señor García, SSN [[ssn:219-09-9998]]? No: that one is fine, but 219-09-9999 is a specimen.",
    "Løn til [[iban:DK50 0040 0440 1162 43]] — tak!",
    "Zahlung ﻿an [[iban:AT61 1904 3002 3457 3201]] erfolgt.",
    "wallet [[crypto:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4]] or [[crypto:0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB]]",
    "Order #A-12345 for 3 items at $19.99 each, delivered 11/29/2026.",
    "Ticket JIRA-4711 moved to Done at 10:45.",
    "Build 2026.11.29.1 passed in 3.2 s.",
    "Coordinates 52.5200, 13.4050 in Berlin.",
    "Call center hours: 8-18, Mon-Fri.",
    "Account balance: 12,345,678.90 USD.",
    "ISBN 978-3-16-148410-0 is a book.",
    "Postal code 10115 Berlin, 75008 Paris.",
    "Dimensions 1920x1080 at 60 Hz.",
    "Serial AB-1234-CD-5678 on the device.",
    "UUID 550e8400-e29b-41d4-a716-446655440000 in the URL.",
    # A SHA-256 digest has the shape of a raw private key: reported (as unknown), by design.
    "Hash [[secret:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08]] of 'test'",
]

# More negatives that trip other tools, and a few more positives in running text.
ROWS += [
    "Release 2.10.3 fixes 14 bugs; see PR #4711.",
    "Temperature 21.5 °C, humidity 48 %.",
    "Invoice INV-2026-11-000042 due in 30 days.",
    "Call 112 or 911 in an emergency.",
    "Page 3 of 12, 25 results per page.",
    "Meeting 14:30-15:45 in room B.204.",
    "Kurs 1.234,56 Punkte (+0,8 %).",
    "Unix time 1764374400 is a Saturday.",
    "Product code 4006381333931 (EAN-13).",
    "Batch 20261129-0001 was imported.",
    "Version string 10.0.19045.3693 of Windows.",
    "Route /api/v1/sessions/123456789/events",
    "CSS margin: 0 0 0 0; padding: 12px 24px;",
    "Color #FF5733 and rgba(255, 87, 51, 0.5).",
    "Year range 1990-2026, ages 18-65.",
    "ABCDEFGH is a placeholder in the template.",
    "HTTP 404 NOT FOUND at /login?next=%2Fhome",
    "Firmware FW-2026.11-RC1 build 4821.",
    "Lot 7 of 10, weight 12.5 kg.",
    "Latitude 48.8566, longitude 2.3522.",
    "Her email is [[email:claire.martin@banque.example.fr]] and her phone [[phone:+33 6 12 34 56 78]].",
    "Please verify IBAN [[iban:GB82WEST12345698765432]] (BIC [[bic:NWBKGB2L]]).",
    "Reset link sent; one-time code [[otp:902113]] expires in 10 minutes.",
    "Routing transit number [[aba:322271627]], account ending 4321.",
    "Server log: [[ip:172.16.254.1]] - - [29/Nov/2026:10:30:45 +0100] \"GET / HTTP/1.1\" 200",
    "Your security code is [[otp:5521]]. Do not share it.",
    "Bitcoin testnet [[crypto:mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn]] faucet",
    "Codice [[national_id:BNCGNN70A41H501V]] registrato.",
]
