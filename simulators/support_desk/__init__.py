"""The e-government operator's single support desk (sd@nitec.kz), as a mailbox testers can read."""
