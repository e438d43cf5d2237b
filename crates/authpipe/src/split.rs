//! Splits a pre-initialised snapshot into a *code* module and a *data*
//! module.
//!
//! wasmtime-wizer changes only data segments, global values and the memory's
//! minimum size; every snapshot made from one engine has the same code. If
//! each snapshot were compiled as it is, Cranelift would compile the whole
//! QuickJS engine again for every function (about a second each). Instead:
//!
//! * the **code module** is the snapshot with its memory turned into an
//!   import (`authpipe:snapshot` / `memory`) and its snapshot data removed.
//!   It is byte-identical for all functions of one engine, so it is compiled
//!   once per process (or loaded from the on-disk cache);
//! * the **data module** defines and exports that memory with the snapshot's
//!   data segments and no code. Compiling it is cheap, and wasmtime still
//!   maps its initial memory copy-on-write.
//!
//! The data module also imports the snapshot's WASI functions and
//! re-exports them (as `f0`, `f1`, …), and the code module imports them from
//! there. The data module's imports are then resolved once, when it is
//! loaded (`InstancePre`), and a call wires the code module to the data
//! instance by export index, without looking anything up by name.
//!
//! Each call instantiates the data module, then the code module on its
//! memory. The snapshot file itself stays one self-contained module.

use crate::compile::WARNINGS_SECTION;
use anyhow::{Context, Result, bail, ensure};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    ConstExpr, DataCountSection, DataSection, EntityType, ExportKind, ExportSection, ImportSection,
    MemorySection, MemoryType, RawSection,
};
use wasmparser::{DataKind, Operator, Parser, Payload};

/// Import module name under which the code module receives its memory.
pub(crate) const SNAPSHOT_MODULE: &str = "authpipe:snapshot";
/// Import/export name of the memory.
pub(crate) const MEMORY_NAME: &str = "memory";

/// The two halves of a snapshot.
pub(crate) struct SplitModule {
    /// Code, tables, globals and exports; imports its memory.
    pub code: Vec<u8>,
    /// The memory with the snapshot's contents.
    pub data: Vec<u8>,
    /// The compile warnings the snapshot carries.
    pub warnings: Vec<String>,
}

/// Splits `snapshot` into its code and data modules.
pub(crate) fn split(snapshot: &[u8]) -> Result<SplitModule> {
    let parts = scan(snapshot)?;
    let mut code = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(snapshot) {
        let payload = payload.context("the snapshot is not a valid WebAssembly module")?;
        match payload {
            Payload::ImportSection(_) => {
                let mut imports = ImportSection::new();
                for (index, (_, _, type_index)) in parts.functions.iter().enumerate() {
                    imports.import(
                        SNAPSHOT_MODULE,
                        &function_export_name(index),
                        EntityType::Function(*type_index),
                    );
                }
                // The memory import goes last, after the function imports, so
                // no function index moves. It becomes memory index 0.
                imports.import(
                    SNAPSHOT_MODULE,
                    MEMORY_NAME,
                    EntityType::Memory(placeholder_memory()),
                );
                code.section(&imports);
            }
            Payload::MemorySection(_) => {}
            Payload::DataCountSection { .. } => {
                code.section(&DataCountSection {
                    count: parts.passive.len() as u32,
                });
            }
            Payload::DataSection(_) => {
                if !parts.passive.is_empty() {
                    let mut section = DataSection::new();
                    for segment in &parts.passive {
                        section.passive(segment.iter().copied());
                    }
                    code.section(&section);
                }
            }
            Payload::CustomSection(reader) if reader.name() == WARNINGS_SECTION => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    code.section(&RawSection {
                        id,
                        data: &snapshot[range],
                    });
                }
            }
        }
    }

    let mut data = wasm_encoder::Module::new();
    let types = parts
        .types
        .clone()
        .context("the module has imports but no types")?;
    data.section(&RawSection {
        id: wasm_encoder::SectionId::Type as u8,
        data: &snapshot[types],
    });
    let mut imports = ImportSection::new();
    for (module, name, type_index) in &parts.functions {
        imports.import(module, name, EntityType::Function(*type_index));
    }
    data.section(&imports);
    let mut memories = MemorySection::new();
    memories.memory(parts.memory_type);
    data.section(&memories);
    let mut exports = ExportSection::new();
    exports.export(MEMORY_NAME, ExportKind::Memory, 0);
    for index in 0..parts.functions.len() {
        exports.export(&function_export_name(index), ExportKind::Func, index as u32);
    }
    data.section(&exports);
    data.section(&parts.active);

    Ok(SplitModule {
        code: code.finish(),
        data: data.finish(),
        warnings: parts.warnings,
    })
}

/// Name under which the data module re-exports imported function `index`.
pub(crate) fn function_export_name(index: usize) -> String {
    format!("f{index}")
}

/// What the first pass over a snapshot learns.
struct Parts {
    /// The type section's byte range (the data module copies it).
    types: Option<std::ops::Range<usize>>,
    /// Imported functions: module, name, type index.
    functions: Vec<(String, String, u32)>,
    memory_type: MemoryType,
    /// Passive segments stay with the code (their indices must not move).
    passive: Vec<Vec<u8>>,
    /// Active segments are the snapshot's memory contents.
    active: DataSection,
    /// Compile warnings from the [`WARNINGS_SECTION`].
    warnings: Vec<String>,
}

/// The compile warnings a snapshot carries, read without loading it.
pub(crate) fn warnings(snapshot: &[u8]) -> Result<Vec<String>> {
    for payload in Parser::new(0).parse_all(snapshot) {
        if let Payload::CustomSection(reader) =
            payload.context("the snapshot is not a valid WebAssembly module")?
            && reader.name() == WARNINGS_SECTION
        {
            return decode_warnings(reader.data());
        }
    }
    Ok(Vec::new())
}

fn decode_warnings(data: &[u8]) -> Result<Vec<String>> {
    serde_json::from_slice(data)
        .context("the snapshot's warnings section is not a JSON list of strings")
}

fn scan(snapshot: &[u8]) -> Result<Parts> {
    let mut memory_type = None;
    let mut passive = Vec::new();
    let mut active = DataSection::new();
    let mut types = None;
    let mut functions = Vec::new();
    let mut has_imports = false;
    let mut warnings = Vec::new();
    for payload in Parser::new(0).parse_all(snapshot) {
        match payload.context("the snapshot is not a valid WebAssembly module")? {
            Payload::TypeSection(reader) => types = Some(reader.range()),
            Payload::ImportSection(reader) => {
                has_imports = true;
                for import in reader.into_imports() {
                    let import = import?;
                    match import.ty {
                        wasmparser::TypeRef::Func(type_index) => functions.push((
                            import.module.to_string(),
                            import.name.to_string(),
                            type_index,
                        )),
                        _ => bail!(
                            "the module imports `{}::{}`, which is not a function; it is not an authpipe snapshot",
                            import.module,
                            import.name
                        ),
                    }
                }
            }
            Payload::MemorySection(reader) => {
                let memories: Vec<_> = reader.into_iter().collect::<Result<_, _>>()?;
                ensure!(
                    memories.len() == 1,
                    "the module defines {} memories, expected 1",
                    memories.len()
                );
                memory_type = Some(RoundtripReencoder.memory_type(memories[0])?);
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    match data.kind {
                        DataKind::Passive => passive.push(data.data.to_vec()),
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => {
                            ensure!(memory_index == 0, "data segment for memory {memory_index}");
                            let offset = const_offset(&offset_expr)?;
                            active.active(
                                0,
                                &ConstExpr::i32_const(offset),
                                data.data.iter().copied(),
                            );
                        }
                    }
                }
            }
            Payload::CustomSection(reader) if reader.name() == WARNINGS_SECTION => {
                warnings = decode_warnings(reader.data())?;
            }
            _ => {}
        }
    }
    ensure!(
        has_imports,
        "the module imports nothing; it is not an authpipe snapshot"
    );
    Ok(Parts {
        types,
        functions,
        memory_type: memory_type
            .context("the module defines no memory; it is not an authpipe snapshot")?,
        passive,
        active,
        warnings,
    })
}

/// The memory type the code module imports: any size, so that it does not
/// depend on the snapshot's minimum and stays identical across functions.
fn placeholder_memory() -> MemoryType {
    MemoryType {
        minimum: 0,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    }
}

fn const_offset(expr: &wasmparser::ConstExpr<'_>) -> Result<i32> {
    let mut ops = expr.get_operators_reader();
    match ops.read()? {
        Operator::I32Const { value } => Ok(value),
        other => bail!("unsupported data segment offset {other:?}"),
    }
}
