//! Care teams, pools, out-of-office periods and holidays in the database (being written).
