pub mod piano_roll;
