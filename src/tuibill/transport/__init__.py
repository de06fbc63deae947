"""Moving files to and from the caisses: SMTP out, POP3/IMAP/inbox in, archive."""
