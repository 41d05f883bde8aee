# Install rules of ucw-asio, included by the top CMakeLists.txt; `make install`
# in the Makefile installs the same tree:
#
#   <libdir>/libucw-asio.so.1                 the library (SONAME libucw-asio.so.1)
#   <libdir>/libucw-asio.so                   -> libucw-asio.so.1, for -lucw-asio
#   <libdir>/libucw-asio-go.so.1              the engine, which the library loads on first
#                                             use from its own directory
#   <includedir>/ucw/asio.h                   the header
#   <libdir>/pkgconfig/ucw-asio.pc            for pkg-config
#   <libdir>/cmake/ucw-asio/ucw-asioConfig.cmake, ucw-asioConfigVersion.cmake
#                                             for find_package(ucw-asio)
#   <mandir>/man3/asio.3, asio_*.3, ucw_asio_*.3   the man pages
#
# <libdir>, <includedir> and <mandir> come from GNUInstallDirs (lib, include
# and share/man under most prefixes; lib/<multiarch> under /usr on Debian).

include(GNUInstallDirs)

set(_ucw_asio_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/ucw-asio)

install(FILES ${UCW_ASIO_LIB} ${UCW_ASIO_ENGINE_LIB} DESTINATION ${CMAKE_INSTALL_LIBDIR}
  PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
# build-lib.sh makes the symlink beside the library; install() copies it as a symlink.
install(FILES ${CMAKE_BINARY_DIR}/libucw-asio.so DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/ucw/asio.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ucw)
file(GLOB _ucw_asio_man CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/man/*.3)
install(FILES ${_ucw_asio_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)

# The package files find the tree relative to their own place.
file(RELATIVE_PATH config_to_prefix /prefix/${_ucw_asio_cmakedir} /prefix)
set(libdir ${CMAKE_INSTALL_LIBDIR})
set(includedir ${CMAKE_INSTALL_INCLUDEDIR})
set(version ${PROJECT_VERSION})
configure_file(${CMAKE_SOURCE_DIR}/packaging/ucw-asioConfig.cmake.in
  ${CMAKE_BINARY_DIR}/packaging/ucw-asioConfig.cmake @ONLY)
configure_file(${CMAKE_SOURCE_DIR}/packaging/ucw-asioConfigVersion.cmake.in
  ${CMAKE_BINARY_DIR}/packaging/ucw-asioConfigVersion.cmake @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/packaging/ucw-asioConfig.cmake
  ${CMAKE_BINARY_DIR}/packaging/ucw-asioConfigVersion.cmake DESTINATION ${_ucw_asio_cmakedir})

# The .pc file finds the prefix from its own place (pkgconf's ${pcfiledir}),
# so that the tree may be moved; installed under /usr, it names /usr, which
# pkg-config then leaves out of -I and -L. The prefix is known only at install
# time (cmake --install --prefix): the file is written then.
file(RELATIVE_PATH _ucw_asio_pc_to_prefix /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" _ucw_asio_pc_to_prefix "${_ucw_asio_pc_to_prefix}")
install(CODE "
  if(\"\${CMAKE_INSTALL_PREFIX}\" STREQUAL \"/usr\")
    set(prefix /usr)
  else()
    set(prefix \"\\\${pcfiledir}/${_ucw_asio_pc_to_prefix}\")
  endif()
  set(libdir \"${CMAKE_INSTALL_LIBDIR}\")
  set(includedir \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(version \"${PROJECT_VERSION}\")
  configure_file(\"${CMAKE_SOURCE_DIR}/packaging/ucw-asio.pc.in\"
    \"${CMAKE_BINARY_DIR}/packaging/ucw-asio.pc\" @ONLY)
")
install(FILES ${CMAKE_BINARY_DIR}/packaging/ucw-asio.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

unset(config_to_prefix)
unset(_ucw_asio_pc_to_prefix)
unset(_ucw_asio_man)
unset(libdir)
unset(includedir)
unset(version)
