# What `make install` (cmake --install) puts where, under CMAKE_INSTALL_PREFIX and $DESTDIR:
#   include/folio/*.h                     public headers
#   lib/libfolio.so.X.Y.Z (+ .so.X, .so)  shared library, SONAME libfolio.so.X
#   lib/libfolio.a                        static library
#   lib/pkgconfig/folio.pc                pkg-config (relocatable: paths from ${pcfiledir})
#   lib/cmake/folio/*.cmake               find_package(folio): folio::folio, folio::folio_static
#   bin/folio                             the command
#   share/man/man1/folio.1, man3/libfolio.3
# `make uninstall` removes exactly the files listed in install_manifest.txt (cmake/uninstall.cmake).
include(CMakePackageConfigHelpers)

install(TARGETS folio RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS folio_shared folio_static EXPORT folioTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/folio DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

# pkg-config: the prefix is found from the .pc file's own place, so the same file works
# under any --prefix and DESTDIR.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(FOLIO_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(FOLIO_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH _folio_up "/r/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/r")
  string(REGEX REPLACE "/$" "" _folio_up "${_folio_up}")
  set(FOLIO_PC_PREFIX "\${pcfiledir}/${_folio_up}")
  set(FOLIO_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(FOLIO_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(FOLIO_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(cmake/folio.pc.in ${PROJECT_BINARY_DIR}/folio.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/folio.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake package: find_package(folio) gives folio::folio (shared) and folio::folio_static.
set(FOLIO_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/folio)
install(EXPORT folioTargets NAMESPACE folio:: DESTINATION ${FOLIO_CMAKE_DIR})
configure_package_config_file(cmake/folioConfig.cmake.in
  ${PROJECT_BINARY_DIR}/folioConfig.cmake INSTALL_DESTINATION ${FOLIO_CMAKE_DIR})
# Until 1.0 a minor version may break the ABI (the SONAME says so), hence SameMinorVersion.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/folioConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/folioConfig.cmake ${PROJECT_BINARY_DIR}/folioConfigVersion.cmake
  DESTINATION ${FOLIO_CMAKE_DIR})

install(FILES docs/man/folio.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES docs/man/libfolio.3 DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)

add_custom_target(uninstall
  COMMAND ${CMAKE_COMMAND} -DMANIFEST=${PROJECT_BINARY_DIR}/install_manifest.txt
          -P ${PROJECT_SOURCE_DIR}/cmake/uninstall.cmake
  COMMENT "Removing the files listed in install_manifest.txt")
