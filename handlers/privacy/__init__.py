"""Personal data: redaction of text that leaves the jurisdiction (`redact`), and a resident's erasure across every
feature (`erasure`). See docs/security.md, section 个人信息.
"""
