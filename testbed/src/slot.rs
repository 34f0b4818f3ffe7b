//! Claiming a slot: a lock file per slot keeps parallel testbeds (nextest runs tests as
//! separate processes) apart, and the kernel drops the lock when a run dies, so a slot that can
//! be locked holds only leftovers, which are cleaned on the way.

use std::fs::{File, OpenOptions, TryLockError};
use std::process::Command;

use crate::cmd::run;
use crate::error::{Error, Result};
use crate::layout::{Layout, ROOT, SLOTS};
use crate::leftovers::{Inventory, clean_slot};

/// A slot this process holds until the value is dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) layout: Layout,
    _lock: File,
}

/// Takes the first free slot whose subnet nobody else uses, and cleans the leftovers of every
/// free slot it passes or finds.
pub(crate) fn claim() -> Result<Slot> {
    std::fs::create_dir_all(ROOT).map_err(Error::io("create", ROOT))?;
    let inventory = Inventory::take()?;
    let leftover = inventory.slots();
    let addrs = run(Command::new("ip").args(["-o", "-4", "addr", "show"]))?;
    let addrs = String::from_utf8_lossy(&addrs.stdout).into_owned();
    let mut claimed = None;
    for slot in 0..SLOTS {
        let dirty = leftover.contains(&slot);
        if claimed.is_some() && !dirty {
            continue;
        }
        let Some(lock) = try_lock(slot)? else {
            continue;
        };
        if dirty {
            // Read again under the lock: the first reading may predate a testbed's own
            // teardown, and what is gone cannot be deleted.
            clean_slot(slot, &Inventory::take()?)?;
        }
        let layout = Layout { slot };
        // `ip -o addr` prints " inet 10.213.SLOT.x/24": someone else's address in our subnet.
        let foreign = addrs.contains(&format!(" 10.213.{slot}."));
        if claimed.is_none() && !foreign {
            claimed = Some(Slot {
                layout,
                _lock: lock,
            });
        }
    }
    claimed.ok_or(Error::NoFreeSlot(SLOTS))
}

fn try_lock(slot: u8) -> Result<Option<File>> {
    let path = Layout::lock_path(slot);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io("open", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(Error::io("lock", &path)(e)),
    }
}
