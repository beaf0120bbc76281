pub mod gs1;
