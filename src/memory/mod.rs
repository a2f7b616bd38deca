//! Native memory as Lua sees it: pointer objects (and, as the memory model grows, arenas,
//! buffers and struct views).

pub mod pointer;
